import type { UploadStatus } from "./status.js";
import type { UploadView } from "./views.js";

/**
 * What happened to an upload, as customers learn it (webhooks, `onEvent`). Every event is
 * written to the outbox in the same transaction as the state change it reports, so none is
 * lost when the process dies after a commit, and none exists for a change that rolled back.
 */
export const UPLOAD_EVENT_TYPES = [
  "upload.confirmed",
  "upload.rejected",
  "upload.deleted",
  "upload.expired",
  "upload.attached",
  "upload.scanned",
  "upload.infected",
  "derivative.ready",
] as const;
export type UploadEventType = (typeof UPLOAD_EVENT_TYPES)[number];

export function isUploadEventType(value: string): value is UploadEventType {
  return (UPLOAD_EVENT_TYPES as readonly string[]).includes(value);
}

/**
 * Work the server gives itself through the same outbox, never sent to webhooks: a verified
 * upload waiting for the virus scanner.
 */
export const INTERNAL_EVENT_TYPES = ["scan.requested"] as const;
export type InternalEventType = (typeof INTERNAL_EVENT_TYPES)[number];
export type OutboxEventType = UploadEventType | InternalEventType;

/** What moving an upload to `to` tells the world (moves to `pending` and `scanning` tell it nothing yet). */
export const EVENT_OF_STATUS = {
  confirmed: "upload.confirmed",
  rejected: "upload.rejected",
  infected: "upload.infected",
  deleted: "upload.deleted",
  expired: "upload.expired",
  scanning: "scan.requested",
} as const satisfies Partial<Record<UploadStatus, OutboxEventType>>;

/**
 * One event as subscribers get it. `data` is the upload as its owner sees it (`GET
 * /v1/uploads/{id}`) at the moment of the change, plus what the event adds (the derivative
 * made, the signature found). Serialized once when written: every retry sends the same bytes.
 */
export interface UploadEvent {
  /** Stable across retries: receivers dedupe on it (`webhook-id`). */
  id: string;
  type: UploadEventType;
  /** When the change was committed, ISO 8601. */
  timestamp: string;
  data: EventData;
}

export type EventData = UploadView & {
  /** `derivative.ready`: the one made (its URL: `GET /v1/uploads/{id}`). */
  derivative?: DerivativeMade;
  /** `upload.infected`: what the scanner found. */
  signature?: string;
};

/** A derivative as `derivative.ready` tells it. */
export interface DerivativeMade {
  name: string;
  key: string;
  width: number;
  height: number;
  contentType: string;
}

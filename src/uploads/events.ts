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

import type { NewUpload, UploadRecord } from "../uploads/record.js";
import type { UploadStatus } from "../uploads/status.js";
import type { QuotaCharge, QuotaUsage } from "./quota.js";
import type { SweeperStore } from "./sweeper-store.js";
import type { EventStore } from "./event-store.js";
import type { DerivativeStore } from "./derivative-store.js";
import type { LinkRefusal, LinkStore } from "./link-store.js";

/**
 * The metadata store: upload rows and quota counters. One interface, implemented once over
 * Kysely for SQLite (embedded default) and PostgreSQL. State changes are guarded: each names
 * the statuses it may move from, and reports when the row was not in one of them, so two
 * racing requests can never both win.
 */
export interface MetadataStore {
  /** The cleanup sweeper's queries (`src/sweeper/`). */
  readonly sweeper: SweeperStore;
  /** The outbox's deliveries (`src/events/`), and the derivatives made from uploads. */
  readonly events: EventStore;
  readonly derivatives: DerivativeStore;
  /** Upload links (`src/links/`); presigns through one are admitted in `createUpload`. */
  readonly links: LinkStore;
  /** Brings the schema up to date. Safe to run on every start. */
  migrate(): Promise<void>;
  /**
   * In one transaction: reserve the upload's declared size (and, for a user, a pending slot)
   * on every charge, `used + reserved + size <= limit`, then insert it as `pending`. All or
   * nothing: a refused reservation inserts nothing and holds nothing.
   */
  createUpload(input: { upload: NewUpload; reserve: readonly QuotaCharge[]; now: Date }): Promise<CreateOutcome>;
  /** Inserts a pending upload that holds no reservation (imports, benchmarks, tests). */
  insertUpload(upload: NewUpload): Promise<UploadRecord>;
  findUpload(id: string): Promise<UploadRecord | undefined>;
  /** One user's upload by the key it is served from; another user's is not found. */
  findUploadByKey(query: { userId: string; key: string }): Promise<UploadRecord | undefined>;
  /** A user's uploads, newest first, `deleted` ones left out; `before` is an upload id cursor. */
  listUploads(query: {
    userId: string;
    ownerType?: string | undefined;
    before?: string | undefined;
    limit: number;
  }): Promise<UploadRecord[]>;
  usage(charge: QuotaCharge): Promise<QuotaUsage>;
  /**
   * Gives back the reservations of pending uploads whose URL expired before `now` (nothing more
   * can be uploaded to them), for one user's or one organization's uploads. The rows stay
   * pending: a client that finished just in time may still confirm, charged as usual then.
   * Returns how many were released.
   */
  releaseExpiredReservations(input: { userId?: string | undefined; orgId?: string | undefined; now: Date }): Promise<number>;
  /**
   * In one transaction: move the upload from one of `from` to `confirmed`, record its size and
   * ETag, and turn its reservation into usage; an upload whose reservation was released meanwhile
   * is charged `used + reserved + size <= limit` instead. Either all of it happens or none.
   */
  confirmUpload(input: {
    id: string;
    from: readonly UploadStatus[];
    size: number;
    etag: string;
    charges: readonly QuotaCharge[];
    /** Compliance retention: the upload may not be deleted before this. */
    retainUntil?: Date | undefined;
    /** It comes from `scanning`, found clean: `upload.scanned` is written before `upload.confirmed`. */
    scanned?: boolean | undefined;
    /**
     * The upload link it was made through, when its URL expired (its use went back): the link is
     * locked first and its uses counted after the move, so a late confirm cannot take a use twice.
     */
    lateLink?: string | undefined;
    now: Date;
  }): Promise<ConfirmOutcome>;
  /**
   * In one transaction: move a verified upload in one of `from` to `scanning` with its size and
   * the staging object's ETag, and write `scan.requested`. Its reservation stays: the bytes are
   * not the user's to keep until they are found clean.
   */
  beginScan(input: {
    id: string;
    from: readonly UploadStatus[];
    size: number;
    etag: string;
    /** As for `confirmUpload`. */
    lateLink?: string | undefined;
    now: Date;
  }): Promise<UploadRecord | "link-used-up" | undefined>;
  /** In one transaction: move an upload in one of `from` to `infected` with the signature found, release its reservation, write `upload.infected`. */
  markInfected(input: { id: string; from: readonly UploadStatus[]; signature: string; now: Date }): Promise<UploadRecord | undefined>;
  /** In one transaction: move an upload in one of `from` to `rejected` with a reason, and release its reservation. */
  rejectUpload(input: {
    id: string;
    from: readonly UploadStatus[];
    code: string;
    reason: string;
    now: Date;
  }): Promise<UploadRecord | undefined>;
  /**
   * In one transaction: move the upload to `deleted`, release its reservation and, if it was
   * `confirmed`, give its bytes back to its user's and organization's quotas (never below zero).
   */
  deleteUpload(input: { id: string; from: readonly UploadStatus[]; now: Date }): Promise<UploadRecord | undefined>;
  /** Records that an upload's staging object is gone (cleared only if it still names `key`). */
  clearStaging(input: { id: string; key: string }): Promise<void>;
  /**
   * In one transaction: attach every listed upload to `parent`, or none. Refused when any is
   * missing, not the user's, not confirmed, or attached to another parent.
   */
  attachUploads(input: {
    /** Whether the caller may reach the upload (`canAccess`); one it may not is refused as not found. */
    owns: (upload: UploadRecord) => boolean;
    ids: readonly string[];
    parent: { type: string; id: string };
    now: Date;
  }): Promise<AttachOutcome>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

export type AttachOutcome =
  | { kind: "attached"; uploads: UploadRecord[] }
  | { kind: "refused"; refused: { id: string; reason: string }[] };

export type CreateOutcome =
  | { kind: "created"; upload: UploadRecord }
  | { kind: "refused"; refusal: ReservationRefusal }
  /** Through an upload link that is used up, revoked or expired (decided under the link's lock). */
  | { kind: "link-refused"; reason: LinkRefusal };

/** Why a reservation was refused: the bytes do not fit, or the user has too many uploads pending. */
export interface ReservationRefusal {
  reason: "quota" | "pending";
  usage: QuotaUsage;
}

export type ConfirmOutcome =
  | { kind: "confirmed"; upload: UploadRecord }
  | { kind: "quota-exceeded"; usage: QuotaUsage }
  | { kind: "not-in-state"; upload: UploadRecord | undefined }
  /** A late confirm through an upload link (its URL expired, its use given back) that no longer fits the link's uses. */
  | { kind: "link-used-up" };

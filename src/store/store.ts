import type { NewUpload, QuotaCharge, QuotaUsage, UploadRecord, UploadStatus } from "./records.js";
import type { SweeperStore } from "./sweeper-store.js";

/**
 * The metadata store: upload rows and quota counters. One interface, implemented once over
 * Kysely for SQLite (embedded default) and PostgreSQL. State changes are guarded: each names
 * the statuses it may move from, and reports when the row was not in one of them, so two
 * racing requests can never both win.
 */
export interface MetadataStore {
  /** The cleanup sweeper's queries (`src/sweeper/`). */
  readonly sweeper: SweeperStore;
  /** Brings the schema up to date. Safe to run on every start. */
  migrate(): Promise<void>;
  insertUpload(upload: NewUpload): Promise<UploadRecord>;
  findUpload(id: string): Promise<UploadRecord | undefined>;
  /** A user's uploads, newest first, `deleted` ones left out; `before` is an upload id cursor. */
  listUploads(query: {
    userId: string;
    ownerType?: string | undefined;
    before?: string | undefined;
    limit: number;
  }): Promise<UploadRecord[]>;
  usage(charge: QuotaCharge): Promise<QuotaUsage>;
  /**
   * In one transaction: move the upload from one of `from` to `confirmed`, record its size and
   * ETag, and charge every quota `used + size <= limit`. Either all of it happens or none.
   */
  confirmUpload(input: {
    id: string;
    from: readonly UploadStatus[];
    size: number;
    etag: string;
    charges: readonly QuotaCharge[];
    /** Compliance retention: the upload may not be deleted before this. */
    retainUntil?: Date | undefined;
    now: Date;
  }): Promise<ConfirmOutcome>;
  /** Moves an upload to `rejected` with a reason, if it is in one of `from`. */
  rejectUpload(input: {
    id: string;
    from: readonly UploadStatus[];
    code: string;
    reason: string;
  }): Promise<UploadRecord | undefined>;
  /**
   * In one transaction: move the upload to `deleted` and, if it was `confirmed`, give its
   * bytes back to its user's and organization's quotas (never below zero).
   */
  deleteUpload(input: { id: string; from: readonly UploadStatus[]; now: Date }): Promise<UploadRecord | undefined>;
  /**
   * In one transaction: attach every listed upload to `parent`, or none. Refused when any is
   * missing, not the user's, not confirmed, or attached to another parent.
   */
  attachUploads(input: {
    userId: string;
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

export type ConfirmOutcome =
  | { kind: "confirmed"; upload: UploadRecord }
  | { kind: "quota-exceeded"; usage: QuotaUsage }
  | { kind: "not-in-state"; upload: UploadRecord | undefined };

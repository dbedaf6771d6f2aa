import type { NewUpload, QuotaCharge, QuotaUsage, UploadRecord, UploadStatus } from "./records.js";

/**
 * The metadata store: upload rows and quota counters. One interface, implemented once over
 * Kysely for SQLite (embedded default) and PostgreSQL. State changes are guarded: each names
 * the statuses it may move from, and reports when the row was not in one of them, so two
 * racing requests can never both win.
 */
export interface MetadataStore {
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
   * bytes back to every quota (never below zero).
   */
  deleteUpload(input: {
    id: string;
    from: readonly UploadStatus[];
    refund: readonly string[];
    now: Date;
  }): Promise<UploadRecord | undefined>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

export type ConfirmOutcome =
  | { kind: "confirmed"; upload: UploadRecord }
  | { kind: "quota-exceeded"; usage: QuotaUsage }
  | { kind: "not-in-state"; upload: UploadRecord | undefined };

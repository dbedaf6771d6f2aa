import type { UploadStatus } from "./status.js";

/** One upload: the domain model the store persists and the service moves through `lifecycle.ts`. */
export interface UploadRecord {
  id: string;
  userId: string;
  ownerType: string;
  ownerId: string | undefined;
  bucket: string;
  key: string;
  /** The user's filename, sanitized; never part of a key or path. */
  filename: string;
  /** Declared at presign; confirmed by sniffing. */
  contentType: string;
  declaredSize: number;
  /** Authoritative size from the store, set at confirm. */
  size: number | undefined;
  etag: string | undefined;
  status: UploadStatus;
  /** Error code and message of a rejection. */
  rejectCode: string | undefined;
  rejectReason: string | undefined;
  createdAt: Date;
  /** When the upload URL stops working. */
  expiresAt: Date;
  confirmedAt: Date | undefined;
  deletedAt: Date | undefined;
  /** Set for multipart uploads: the store's upload id and the part plan. */
  multipart: { uploadId: string; partSize: number; partCount: number } | undefined;
  /** The caller's organization when it was created (its quota is charged too). */
  orgId: string | undefined;
  /** The application record this upload is attached to, and when. */
  parent: { type: string; id: string } | undefined;
  attachedAt: Date | undefined;
  /** Compliance retention: the object may not be deleted before this. */
  retainUntil: Date | undefined;
  /**
   * Where the client's URL writes: a place nothing is ever served from. Confirm verifies the
   * object there and copies it to `bucket`/`key`, which no client credential names. Cleared
   * once the staging object is gone.
   */
  staging: { bucket: string; key: string } | undefined;
  /** How the client uploads: one presigned PUT, a POST form, or presigned parts. */
  method: UploadMethod;
  /** Whether the declared size is still held in the quotas' reservations. */
  reserved: boolean;
  /** The upload link it was made through (`src/links/`); absent: by its user. */
  linkId: string | undefined;
}

export type UploadMethod = "put" | "post" | "multipart";

export type NewUpload = Omit<
  UploadRecord,
  "size" | "etag" | "status" | "rejectCode" | "rejectReason" | "confirmedAt" | "deletedAt" | "parent" | "attachedAt" | "retainUntil" | "reserved" | "linkId"
> & { linkId?: string | undefined };

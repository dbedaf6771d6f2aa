/** The states an upload moves through; the allowed moves are in `uploads/lifecycle.ts`. */
export const UPLOAD_STATUSES = ["pending", "confirmed", "rejected", "deleted", "expired"] as const;
export type UploadStatus = (typeof UPLOAD_STATUSES)[number];

/** One upload as the metadata store holds it. */
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
}

export type NewUpload = Omit<
  UploadRecord,
  "size" | "etag" | "status" | "rejectCode" | "rejectReason" | "confirmedAt" | "deletedAt" | "parent" | "attachedAt" | "retainUntil"
>;

/** The quota subjects an upload is charged to: its user, and its organization if any. */
export function quotaSubjects(userId: string, orgId: string | null | undefined): string[] {
  return orgId == null ? [`user:${userId}`] : [`user:${userId}`, `org:${orgId}`];
}

/** A quota subject such as `user:alice` or `org:acme`. */
export interface QuotaCharge {
  subject: string;
  /** Limit used when the subject has no limit of its own. */
  defaultLimitBytes: number;
}

export interface QuotaUsage {
  subject: string;
  usedBytes: number;
  limitBytes: number;
}

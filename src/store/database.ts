import type { UploadStatus } from "../uploads/status.js";
import type { Generated } from "kysely";

/**
 * Table shapes as Kysely sees them. Times are epoch milliseconds and sizes are bytes, both
 * stored as BIGINT so SQLite and PostgreSQL hold them identically.
 */
export interface Database {
  uploads: UploadsTable;
  quotas: QuotasTable;
  sweep_cursors: SweepCursorsTable;
}

export interface UploadsTable {
  id: string;
  user_id: string;
  owner_type: string;
  owner_id: string | null;
  bucket: string;
  key: string;
  filename: string;
  content_type: string;
  declared_size: number;
  size: number | null;
  etag: string | null;
  status: UploadStatus;
  reject_code: string | null;
  reject_reason: string | null;
  created_at: number;
  expires_at: number;
  confirmed_at: number | null;
  deleted_at: number | null;
  multipart_id: string | null;
  part_size: number | null;
  part_count: number | null;
  org_id: string | null;
  parent_type: string | null;
  parent_id: string | null;
  attached_at: number | null;
  retain_until: number | null;
  /** Where the client's URL writes; NULL once that object is gone (see migration 0005). */
  staging_bucket: string | null;
  staging_key: string | null;
  upload_method: string;
  /** 1 while the declared size is held in the quotas' `reserved_bytes`. */
  reserved: number;
}

export interface QuotasTable {
  subject: string;
  used_bytes: Generated<number>;
  /** NULL: the configured default applies, so changing the default reaches everyone. */
  limit_bytes: number | null;
  /** Declared sizes of pending uploads holding a reservation, and how many they are. */
  reserved_bytes: Generated<number>;
  pending_count: Generated<number>;
  updated_at: number;
}

/** Where a sweeper job that checks a slice of the table per run stopped. */
export interface SweepCursorsTable {
  job: string;
  after_id: string;
  updated_at: number;
}

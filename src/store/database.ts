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
  purge_holds: PurgeHoldsTable;
  events: EventsTable;
  deliveries: DeliveriesTable;
  disabled_targets: DisabledTargetsTable;
  derivatives: DerivativesTable;
  upload_links: UploadLinksTable;
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
  /** When it reached a finished state (`isFinished`): the history purge's clock (migration 0009). */
  finished_at: number | null;
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
  /** The upload link it was made through (migration 0008); NULL: by its user. */
  link_id: string | null;
}

export interface UploadLinksTable {
  id: string;
  /** SHA-256 of the token's secret, hex; the token itself is never stored. */
  token_hash: string;
  user_id: string;
  org_id: string | null;
  /** JSON array: the creator's roles when the link was made. */
  roles: string;
  owner_type: string;
  owner_id: string | null;
  max_uses: number;
  /** NULL: the policy's limit. */
  max_bytes: number | null;
  /** JSON array; NULL: the policy's types. */
  allowed_types: string | null;
  note: string | null;
  created_at: number;
  expires_at: number;
  revoked_at: number | null;
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
  /** The `history` job's cursor is (`finished_at`, id): this is its first half; NULL for the others. */
  after_at: number | null;
  updated_at: number;
}

/** Rows a history purge passed but had to keep, to be checked again (migration 0010). */
export interface PurgeHoldsTable {
  /** `history` (an upload id) or `outbox` (an event id). */
  job: string;
  id: string;
  /** Not checked again before this (the end of a retention); 0: every run. */
  recheck_at: number;
}

/** The outbox: one row per state change, written in the change's own transaction. */
export interface EventsTable {
  id: string;
  type: string;
  upload_id: string;
  owner_type: string;
  /** The event's `data`, serialized once, so every delivery sends the same bytes. */
  payload: string;
  created_at: number;
  /** 1 once a dispatcher has given it its delivery rows. */
  fanned_out: Generated<number>;
}

/** One event to one subscriber (`webhook:<id>`, `scanner`, `derivatives`, `listeners`). */
export interface DeliveriesTable {
  event_id: string;
  target: string;
  state: DeliveryState;
  attempts: Generated<number>;
  /** When it is due; while claimed, the end of the claim's lease. */
  next_attempt_at: number;
  last_status: number | null;
  last_error: string | null;
  updated_at: number;
}

export type DeliveryState = "pending" | "delivered" | "dead" | "disabled";

/**
 * Deliveries nothing will try again by itself: delivered, given up (`dead`), or set aside because
 * their endpoint answered 410 Gone (`disabled`). Dead and disabled ones wait for an operator's
 * `stowage events retry`, and get the history window to have it; `pending` ones (due, leased or
 * backing off) are still in flight. The history purge keeps an event, and its upload's row,
 * while any delivery is not in one of these.
 */
export const SETTLED_DELIVERIES: readonly DeliveryState[] = ["delivered", "dead", "disabled"];

export interface DisabledTargetsTable {
  target: string;
  reason: string;
  disabled_at: number;
}

export interface DerivativesTable {
  upload_id: string;
  name: string;
  state: "ready" | "failed";
  bucket: string;
  key: string;
  content_type: string | null;
  width: number | null;
  height: number | null;
  size: number | null;
  error: string | null;
  created_at: number;
}

import { type Expression, type ExpressionBuilder, type Kysely, PostgresAdapter, type Selectable, sql, type SqlBool, type Transaction, type Updateable } from "kysely";
import { StowageError } from "../errors.js";
import type { Database, UploadsTable } from "./database.js";
import type { UploadStatus } from "../uploads/status.js";
import type { UploadMethod, UploadRecord } from "../uploads/record.js";

/** Driver error codes that mean "the database is not reachable or not usable right now". */
const UNAVAILABLE_CODES = new Set([
  // SQLite (better-sqlite3 `code`)
  "SQLITE_BUSY",
  "SQLITE_LOCKED",
  "SQLITE_CANTOPEN",
  "SQLITE_FULL",
  "SQLITE_READONLY",
  "SQLITE_IOERR",
  "SQLITE_NOTADB",
  "SQLITE_CORRUPT",
  // Network (node)
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
  // PostgreSQL: admin shutdown, crash shutdown, cannot connect now, too many connections
  "57P01",
  "57P02",
  "57P03",
  "53300",
]);

/**
 * pg's and pg-pool's own failures when a connection is lost or cannot be had (server restart,
 * network cut, a terminated backend): they have no `code`, only these messages (pg 8). The second
 * is what a transaction's ROLLBACK meets on a connection lost under the transaction.
 */
const PG_CONNECTION_LOST = new Set([
  "Connection terminated unexpectedly",
  "Client has encountered a connection error and is not queryable",
  "timeout exceeded when trying to connect",
  "Connection terminated due to connection timeout",
]);

export function toRecord(row: Selectable<UploadsTable>): UploadRecord {
  const date = (ms: number | null) => (ms === null ? undefined : new Date(Number(ms)));
  return {
    id: row.id,
    userId: row.user_id,
    ownerType: row.owner_type,
    ownerId: row.owner_id ?? undefined,
    bucket: row.bucket,
    key: row.key,
    filename: row.filename,
    contentType: row.content_type,
    declaredSize: Number(row.declared_size),
    size: row.size === null ? undefined : Number(row.size),
    etag: row.etag ?? undefined,
    status: row.status,
    rejectCode: row.reject_code ?? undefined,
    rejectReason: row.reject_reason ?? undefined,
    createdAt: new Date(Number(row.created_at)),
    expiresAt: new Date(Number(row.expires_at)),
    confirmedAt: date(row.confirmed_at),
    deletedAt: date(row.deleted_at),
    multipart:
      row.multipart_id === null
        ? undefined
        : { uploadId: row.multipart_id, partSize: Number(row.part_size), partCount: Number(row.part_count) },
    orgId: row.org_id ?? undefined,
    parent: row.parent_type === null || row.parent_id === null ? undefined : { type: row.parent_type, id: row.parent_id },
    attachedAt: date(row.attached_at),
    retainUntil: date(row.retain_until),
    staging: row.staging_bucket === null || row.staging_key === null ? undefined : { bucket: row.staging_bucket, key: row.staging_key },
    method: row.upload_method as UploadMethod,
    reserved: Number(row.reserved) === 1,
    linkId: row.link_id ?? undefined,
  };
}

/** Connection-level failures become 503 DATABASE_UNAVAILABLE; anything else is a bug and stays one. */
export async function guardDb<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    const code = String((error as { code?: unknown } | undefined)?.code ?? "");
    const family = code.startsWith("SQLITE_IOERR") ? "SQLITE_IOERR" : code;
    if (UNAVAILABLE_CODES.has(family) || (error instanceof Error && PG_CONNECTION_LOST.has(error.message))) {
      throw new StowageError("DATABASE_UNAVAILABLE", "The metadata database is not available.", {
        cause: error,
      });
    }
    throw error;
  }
}

/** A row broke a constraint (SQLite `SQLITE_CONSTRAINT_*`, PostgreSQL SQLSTATE class 23): that row's fault, not the database's. */
export function isConstraintViolation(error: unknown): boolean {
  const code = String((error as { code?: unknown } | undefined)?.code ?? "");
  return code.startsWith("SQLITE_CONSTRAINT") || /^23[0-9A-Z]{3}$/.test(code);
}

/** PostgreSQL aborted the transaction to break a deadlock (SQLSTATE 40P01): run alone, it would not meet one. */
export function isDeadlock(error: unknown): boolean {
  return (error as { code?: unknown } | undefined)?.code === "40P01";
}

/**
 * One guarded state change: the upload `id` gets `set` only while its status is one of `from`
 * (the lifecycle's sources); the row as changed, or undefined when it was in no such state.
 */
export function move(trx: Transaction<Database>, id: string, from: readonly UploadStatus[], set: Updateable<UploadsTable>) {
  return trx.updateTable("uploads").set(set).where("id", "=", id).where("status", "in", from).returningAll().executeTakeFirst();
}

type Uploads = ExpressionBuilder<Database, "uploads">;

/** Rows under compliance retention never match a sweeper rule or the history purge: the retention wins. */
export function notRetained(now: Date) {
  return (eb: Uploads) => eb.or([eb("retain_until", "is", null), eb("retain_until", "<=", now.getTime())]);
}

export type Term = (eb: Uploads, column: "status" | "owner_type", values: string | readonly string[]) => Expression<SqlBool>;

/**
 * `column = value` in a form no index can serve. The paged reads walk the primary key in id
 * order; offered an index on the status (or owner type), SQLite takes it (it has no statistics)
 * and PostgreSQL may, and then each page reads and sorts every matching row: quadratic over a
 * sweep. `coalesce` of a NOT NULL column changes no result and hides the column from the
 * planner's index matching on both databases, so a whole sweep reads the table once.
 */
export const unindexed: Term = (eb, column, values) => {
  const hidden = eb.fn.coalesce(column, sql.lit(""));
  return typeof values === "string" ? eb(hidden, "=", values) : eb(hidden, "in", values);
};

/** Whether `db` speaks PostgreSQL (row locks, SKIP LOCKED) rather than SQLite (one writer at a time). */
export function isPostgres(db: Kysely<Database>): boolean {
  return db.getExecutor().adapter instanceof PostgresAdapter;
}

import { type Kysely, sql } from "kysely";

/**
 * Staging keys and quota reservations (the hardening of presign and confirm):
 * - `staging_bucket`/`staging_key`: where the client's URL writes. Confirm verifies the object
 *   there and copies it to `bucket`/`key`, which no client credential ever names; the staging
 *   columns are cleared once the staging object is gone. Pending rows from before this migration
 *   were signed for their final key, so their staging place is that key (promote is then a no-op).
 * - `upload_method`: `put`, `post` or `multipart`, which decides how a used URL is retired.
 * - `reserved`: 1 while the upload holds its declared size in `quotas.reserved_bytes` (and a slot
 *   in `quotas.pending_count`); cleared in the transaction that confirms, rejects, deletes or
 *   expires it, or releases it when its URL expired.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable("uploads").addColumn("staging_bucket", "text").execute();
  await db.schema.alterTable("uploads").addColumn("staging_key", "text").execute();
  await db.schema.alterTable("uploads").addColumn("upload_method", "text", (c) => c.notNull().defaultTo("put")).execute();
  await db.schema.alterTable("uploads").addColumn("reserved", "integer", (c) => c.notNull().defaultTo(0)).execute();
  await sql`update uploads set staging_bucket = bucket, staging_key = key where status = 'pending'`.execute(db);
  await sql`update uploads set upload_method = 'multipart' where multipart_id is not null`.execute(db);
  // Few rows match either (uploads in flight and recently settled ones), so both stay small.
  await db.schema.createIndex("uploads_staged_idx").on("uploads").column("expires_at").where(sql.ref("staging_key"), "is not", null).execute();
  await db.schema.createIndex("uploads_reserved_idx").on("uploads").columns(["expires_at"]).where(sql.ref("reserved"), "=", 1).execute();

  await db.schema.alterTable("quotas").addColumn("reserved_bytes", "bigint", (c) => c.notNull().defaultTo(0)).execute();
  await db.schema.alterTable("quotas").addColumn("pending_count", "bigint", (c) => c.notNull().defaultTo(0)).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable("quotas").dropColumn("pending_count").execute();
  await db.schema.alterTable("quotas").dropColumn("reserved_bytes").execute();
  await db.schema.dropIndex("uploads_reserved_idx").execute();
  await db.schema.dropIndex("uploads_staged_idx").execute();
  for (const column of ["reserved", "upload_method", "staging_key", "staging_bucket"]) {
    await db.schema.alterTable("uploads").dropColumn(column).execute();
  }
}

import { type Kysely, sql } from "kysely";

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable("uploads")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("user_id", "text", (c) => c.notNull())
    .addColumn("owner_type", "text", (c) => c.notNull())
    .addColumn("owner_id", "text")
    .addColumn("bucket", "text", (c) => c.notNull())
    .addColumn("key", "text", (c) => c.notNull())
    .addColumn("filename", "text", (c) => c.notNull())
    .addColumn("content_type", "text", (c) => c.notNull())
    .addColumn("declared_size", "bigint", (c) => c.notNull())
    .addColumn("size", "bigint")
    .addColumn("etag", "text")
    .addColumn("status", "text", (c) => c.notNull())
    .addColumn("reject_code", "text")
    .addColumn("reject_reason", "text")
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("expires_at", "bigint", (c) => c.notNull())
    .addColumn("confirmed_at", "bigint")
    .addColumn("deleted_at", "bigint")
    .addUniqueConstraint("uploads_bucket_key_unique", ["bucket", "key"])
    .execute();
  // The caller's list: newest first by time-ordered id.
  await db.schema
    .createIndex("uploads_user_id_idx")
    .on("uploads")
    .columns(["user_id", "id"])
    .execute();
  // The sweeper's scan for abandoned uploads.
  await db.schema
    .createIndex("uploads_status_expires_idx")
    .on("uploads")
    .columns(["status", "expires_at"])
    .execute();

  await db.schema
    .createTable("quotas")
    .addColumn("subject", "text", (c) => c.primaryKey())
    .addColumn("used_bytes", "bigint", (c) => c.notNull().defaultTo(0))
    .addColumn("limit_bytes", "bigint")
    .addColumn("updated_at", "bigint", (c) => c.notNull())
    .addCheckConstraint("quotas_used_non_negative", sql`used_bytes >= 0`)
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable("quotas").execute();
  await db.schema.dropTable("uploads").execute();
}

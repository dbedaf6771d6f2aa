import { type Kysely, sql } from "kysely";

/**
 * Upload links (`src/links/`): a token that lets whoever holds it upload for the link's creator.
 * - `upload_links`: one row per link; the token itself is never stored, only its SHA-256
 *   (`token_hash`). `roles` is the creator's roles when the link was made (JSON), so a policy's
 *   role rule holds for the holder as it did for the creator.
 * - `uploads.link_id`: the link an upload was made through (NULL: by its user), with two
 *   partial indexes: a link's uploads newest first, and its uses counted from the index alone.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable("upload_links")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("token_hash", "text", (c) => c.notNull())
    .addColumn("user_id", "text", (c) => c.notNull())
    .addColumn("org_id", "text")
    .addColumn("roles", "text", (c) => c.notNull())
    .addColumn("owner_type", "text", (c) => c.notNull())
    .addColumn("owner_id", "text")
    .addColumn("max_uses", "integer", (c) => c.notNull())
    .addColumn("max_bytes", "bigint")
    .addColumn("allowed_types", "text")
    .addColumn("note", "text")
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("expires_at", "bigint", (c) => c.notNull())
    .addColumn("revoked_at", "bigint")
    .execute();
  await db.schema.createIndex("upload_links_user_idx").on("upload_links").columns(["user_id", "id"]).execute();
  await db.schema.alterTable("uploads").addColumn("link_id", "text").execute();
  // Partial: uploads made by their users (nearly all) cost these indexes nothing.
  await db.schema.createIndex("uploads_link_idx").on("uploads").columns(["link_id", "id"]).where(sql.ref("link_id"), "is not", null).execute();
  // Covers the use count (status, expiry, confirmed_at), so it reads the index and no row.
  await db.schema
    .createIndex("uploads_link_uses_idx")
    .on("uploads")
    .columns(["link_id", "status", "expires_at", "confirmed_at"])
    .where(sql.ref("link_id"), "is not", null)
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex("uploads_link_uses_idx").execute();
  await db.schema.dropIndex("uploads_link_idx").execute();
  await db.schema.alterTable("uploads").dropColumn("link_id").execute();
  await db.schema.dropIndex("upload_links_user_idx").execute();
  await db.schema.dropTable("upload_links").execute();
}

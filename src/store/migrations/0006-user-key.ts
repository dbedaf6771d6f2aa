import type { Kysely } from "kysely";

/** Confirm by object key (GraphQL's `confirmMediaUpload(objectKey)`): one user's upload by its key. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.createIndex("uploads_user_key_idx").on("uploads").columns(["user_id", "key"]).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex("uploads_user_key_idx").execute();
}

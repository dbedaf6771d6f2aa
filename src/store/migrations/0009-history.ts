import { type Kysely, sql } from "kysely";

/**
 * History that does not grow forever (`src/sweeper/history.ts`):
 * - `uploads.finished_at`: when the upload reached a finished state (deleted, expired, rejected,
 *   infected: `isFinished`), set in the transaction that moves it there. `deleted_at` already
 *   said so for deleted and expired rows, but a rejection or an infection recorded no time.
 *   Rows finished before this migration get `deleted_at` where they have one, and otherwise
 *   (rejected, infected) the migration's own time: their window starts now rather than at a
 *   guess that could purge them early.
 * - `uploads_finished_idx`: the purge's scan, partial so live uploads (every presign's insert,
 *   every confirm's update) never touch it; it holds only finished rows.
 * - `upload_links`' ends (expiry, revocation), for purging links long over.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable("uploads").addColumn("finished_at", "bigint").execute();
  await sql`update uploads set finished_at = deleted_at where deleted_at is not null`.execute(db);
  // Status literals are fine here: a migration records the schema as it was, not the lifecycle as it may become.
  await sql`update uploads set finished_at = ${Date.now()} where finished_at is null and status in ('rejected', 'infected')`.execute(db);
  await db.schema.createIndex("uploads_finished_idx").on("uploads").column("finished_at").where(sql.ref("finished_at"), "is not", null).execute();
  await db.schema.createIndex("upload_links_expires_idx").on("upload_links").column("expires_at").execute();
  await db.schema.createIndex("upload_links_revoked_idx").on("upload_links").column("revoked_at").where(sql.ref("revoked_at"), "is not", null).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex("upload_links_revoked_idx").execute();
  await db.schema.dropIndex("upload_links_expires_idx").execute();
  await db.schema.dropIndex("uploads_finished_idx").execute();
  await db.schema.alterTable("uploads").dropColumn("finished_at").execute();
}

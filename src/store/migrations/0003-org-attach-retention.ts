import type { Kysely } from "kysely";

/**
 * Organization quotas (the org charged at confirm is remembered, so a delete refunds the right
 * one), attachment to an application record, and a retention date for compliance media.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable("uploads").addColumn("org_id", "text").execute();
  await db.schema.alterTable("uploads").addColumn("parent_type", "text").execute();
  await db.schema.alterTable("uploads").addColumn("parent_id", "text").execute();
  await db.schema.alterTable("uploads").addColumn("attached_at", "bigint").execute();
  await db.schema.alterTable("uploads").addColumn("retain_until", "bigint").execute();
  // The sweeper's scans: confirmed uploads by type and age.
  await db.schema.createIndex("uploads_type_status_confirmed_idx").on("uploads").columns(["owner_type", "status", "confirmed_at"]).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex("uploads_type_status_confirmed_idx").execute();
  for (const column of ["retain_until", "attached_at", "parent_id", "parent_type", "org_id"]) {
    await db.schema.alterTable("uploads").dropColumn(column).execute();
  }
}

import type { Kysely } from "kysely";

/** Multipart uploads: the store's upload id and the part plan, kept with the upload. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable("uploads").addColumn("multipart_id", "text").execute();
  await db.schema.alterTable("uploads").addColumn("part_size", "bigint").execute();
  await db.schema.alterTable("uploads").addColumn("part_count", "integer").execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable("uploads").dropColumn("part_count").execute();
  await db.schema.alterTable("uploads").dropColumn("part_size").execute();
  await db.schema.alterTable("uploads").dropColumn("multipart_id").execute();
}

import type { Kysely } from "kysely";

/** Where a sweeper job that works through the table a slice per run stopped (the missing-object check). */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable("sweep_cursors")
    .addColumn("job", "text", (c) => c.primaryKey())
    .addColumn("after_id", "text", (c) => c.notNull())
    .addColumn("updated_at", "bigint", (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable("sweep_cursors").execute();
}

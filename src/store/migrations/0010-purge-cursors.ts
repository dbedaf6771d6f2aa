import { type Kysely, sql } from "kysely";

/**
 * The history purge goes on from where its last run stopped (`src/sweeper/history.ts`):
 * - `sweep_cursors.after_at`: the `finished_at` half of the `history` job's cursor (its id half
 *   is `after_id`); NULL for jobs whose cursor is an id alone. The `history` and `outbox` rows are
 *   made here because a batch locks its job's row, and a row that is not there cannot be locked.
 * - `purge_holds`: rows the purge read but had to keep (under retention, holding a staging object,
 *   a reservation or derivatives, an event in flight; an event with a delivery in flight), which
 *   the cursor has passed. Each run checks the ones due (`recheck_at`: the end of a retention, or
 *   0 for every run) and purges those whose guard has lifted; it stays as small as what is held.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable("sweep_cursors").addColumn("after_at", "bigint").execute();
  // '' sorts before every id: the first run starts at the beginning.
  await sql`insert into sweep_cursors (job, after_id, updated_at) values ('history', '', 0), ('outbox', '', 0)`.execute(db);
  await db.schema
    .createTable("purge_holds")
    .addColumn("job", "text", (c) => c.notNull())
    .addColumn("id", "text", (c) => c.notNull())
    .addColumn("recheck_at", "bigint", (c) => c.notNull())
    .addPrimaryKeyConstraint("purge_holds_pk", ["job", "id"])
    .execute();
  await db.schema.createIndex("purge_holds_due_idx").on("purge_holds").columns(["job", "recheck_at"]).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable("purge_holds").execute();
  await sql`delete from sweep_cursors where job in ('history', 'outbox')`.execute(db);
  await db.schema.alterTable("sweep_cursors").dropColumn("after_at").execute();
}

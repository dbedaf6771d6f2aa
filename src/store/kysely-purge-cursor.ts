import { type Kysely, sql, type Transaction } from "kysely";
import type { Database } from "./database.js";

/** The history purge's jobs that keep a cursor and a list of held rows (migration 0010). */
export type PurgeJob = "history" | "outbox";

/** Where a job's last batch stopped: after (`at`, `id`); `at` is NULL for the outbox (ids alone) and before the first batch. */
export interface JobCursor {
  at: number | null;
  id: string;
}

/**
 * Runs `work` in one transaction that holds the job's cursor row, or returns `undefined` when
 * another sweeper holds it. Reading the cursor, purging, holding and moving the cursor commit
 * together: a batch that fails leaves the cursor where it was, so no row is ever passed unread,
 * and two sweepers never work one job at once (which is what lets the batch read rows without
 * `SKIP LOCKED`: skipping a row another transaction has locked would pass it for good).
 * PostgreSQL takes the row `FOR UPDATE SKIP LOCKED`; SQLite takes its one write lock with a
 * no-op update (waiting up to the busy timeout), since a read-then-write transaction there can
 * fail when another writer commits in between.
 *
 * On PostgreSQL the transaction also turns merge joins off: the batches join a list of at most
 * `limit` ids to the primary keys, where a nested loop is the plan anyway, and merely costing a
 * merge join makes the planner read the ends of the joined indexes (`get_actual_variable_range`),
 * which after a purge hold the dead entries of every row it deleted until vacuum: at 2 M rows,
 * 14 000 buffers and 200–300 ms to plan one batch (EXPLAIN's "Planning: Buffers"; issue 15).
 */
export function withJobCursor<T>(
  db: Kysely<Database>,
  postgres: boolean,
  job: PurgeJob,
  work: (trx: Transaction<Database>, cursor: JobCursor) => Promise<T>,
): Promise<T | undefined> {
  return db.transaction().execute(async (trx) => {
    if (postgres) await sql`set local enable_mergejoin = off`.execute(trx);
    let cursor = await lock(trx, postgres, job);
    if (cursor === undefined) {
      if (await trx.selectFrom("sweep_cursors").select("job").where("job", "=", job).executeTakeFirst()) return undefined;
      // The migration makes the row; made again if removed by hand, the job starts over, which only re-reads.
      await trx.insertInto("sweep_cursors").values({ job, after_id: "", updated_at: 0 }).onConflict((oc) => oc.column("job").doNothing()).execute();
      cursor = await lock(trx, postgres, job);
      if (cursor === undefined) return undefined;
    }
    return work(trx, cursor);
  });
}

async function lock(trx: Transaction<Database>, postgres: boolean, job: PurgeJob): Promise<JobCursor | undefined> {
  const row = postgres
    ? await trx.selectFrom("sweep_cursors").select(["after_at", "after_id"]).where("job", "=", job).forUpdate().skipLocked().executeTakeFirst()
    : await trx
        .updateTable("sweep_cursors")
        .set((eb) => ({ updated_at: eb.ref("updated_at") }))
        .where("job", "=", job)
        .returning(["after_at", "after_id"])
        .executeTakeFirst();
  return row === undefined ? undefined : { at: row.after_at === null ? null : Number(row.after_at), id: row.after_id };
}

/** Moves the job's cursor past the last row a batch read. */
export async function advance(trx: Transaction<Database>, job: PurgeJob, last: JobCursor, now: Date): Promise<void> {
  await trx.updateTable("sweep_cursors").set({ after_at: last.at, after_id: last.id, updated_at: now.getTime() }).where("job", "=", job).execute();
}

/** Records rows a batch read but kept, to be checked again from `recheckAt` on. */
export async function hold(trx: Transaction<Database>, job: PurgeJob, rows: readonly { id: string; recheckAt: number }[]): Promise<void> {
  if (rows.length === 0) return;
  await trx
    .insertInto("purge_holds")
    .values(rows.map((row) => ({ job, id: row.id, recheck_at: row.recheckAt })))
    .onConflict((oc) => oc.columns(["job", "id"]).doUpdateSet({ recheck_at: sql`excluded.recheck_at` }))
    .execute();
}

/** Held rows due for a check at `now`, by id after `after`. */
export async function dueHolds(
  trx: Kysely<Database>,
  job: PurgeJob,
  input: { after: string | undefined; limit: number; now: Date },
): Promise<string[]> {
  let query = trx.selectFrom("purge_holds").select("id").where("job", "=", job).where("recheck_at", "<=", input.now.getTime());
  if (input.after !== undefined) query = query.where("id", ">", input.after);
  return (await query.orderBy("id").limit(input.limit).execute()).map((row) => row.id);
}

/** Forgets held rows that are gone (purged just now, or by anything else). */
export async function forgetGone(trx: Transaction<Database>, job: PurgeJob, table: "uploads" | "events", ids: readonly string[]): Promise<void> {
  if (ids.length === 0) return;
  await trx
    .deleteFrom("purge_holds")
    .where("job", "=", job)
    .where("id", "in", ids)
    .where((eb) => eb.not(eb.exists(eb.selectFrom(table).select(sql.lit(1).as("one")).whereRef(`${table}.id`, "=", "purge_holds.id"))))
    .execute();
}

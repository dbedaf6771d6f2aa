import type { PurgeBatch, PurgeCursor } from "../store/sweeper-store.js";
import { DAY_MS, type SweepEvent, type SweepJobOptions } from "./events.js";

export interface HistoryOptions extends SweepJobOptions {
  /**
   * How long finished history is kept, in days (`STOWAGE_HISTORY_DAYS`); 0 keeps it forever and
   * the three jobs do nothing.
   */
  historyDays: number;
  /** Rows deleted per statement (default 1000): each batch is one short transaction. */
  purgeBatchSize: number;
}

/**
 * History that does not grow forever: upload rows finished (deleted, expired, rejected,
 * infected) more than `historyDays` ago are deleted, a batch per transaction, oldest first. The
 * store keeps every row something may still need (see `SweeperStore.purgeUploads`): under
 * retention, holding a staging object, a reservation or derivatives, or with an event still
 * being delivered. Rows only: every object of a finished upload is already gone or left to the
 * orphan job.
 *
 * A run goes on from where the last one stopped (a cursor in the database), so a caught-up run
 * reads only the rows that crossed the window since, not the whole history behind it. A row the
 * cursor passed but had to keep is held in a short list and checked again on each run (or when
 * its retention ends), and goes once its guard has lifted. Of two sweepers, one works the job at
 * a time; the other finds its cursor taken and leaves it.
 *
 * @example
 * for await (const event of history({ ...common, historyDays: 30, purgeBatchSize: 1000 })) log.info(event);
 */
export async function* history(options: HistoryOptions): AsyncGenerator<SweepEvent> {
  if (options.historyDays <= 0) return;
  const { store, now, dryRun } = options;
  const finishedBefore = cutoff(options);
  const limit = options.purgeBatchSize;
  const rows = dryRun
    ? paged(
        (after: PurgeCursor | undefined) => store.findPurgeableUploads({ finishedBefore, after, limit, now }),
        (row) => ({ at: row.finishedAt, id: row.id }),
        options,
      )
    : batches((after) => store.purgeHeldUploads({ after, limit, now }), () => store.purgeUploads({ finishedBefore, limit, now }), options);
  for await (const row of rows) {
    yield { job: "history", action: dryRun ? "would-purge" : "purged", bucket: row.bucket, key: row.key, bytes: 0, uploadId: row.id };
  }
}

/**
 * The outbox's own history: events written more than `historyDays` ago whose every delivery is
 * settled (delivered, dead, or its endpoint disabled), deleted with their delivery rows; from a
 * stored cursor with a list of held events, as `history`.
 */
export async function* outbox(options: HistoryOptions): AsyncGenerator<SweepEvent> {
  if (options.historyDays <= 0) return;
  const { store, now, dryRun } = options;
  const before = cutoff(options);
  const limit = options.purgeBatchSize;
  const rows = dryRun
    ? paged((after: string | undefined) => store.findPurgeableEvents({ before, after, limit }), (row) => row.id, options)
    : batches((after) => store.purgeHeldEvents({ before, after, limit, now }), () => store.purgeEvents({ before, limit, now }), options);
  for await (const row of rows) {
    yield { job: "outbox", action: dryRun ? "would-purge" : "purged", bucket: "", key: "", bytes: 0, uploadId: row.uploadId, eventId: row.id };
  }
}

/**
 * A real run's batches: first the held rows due for a check (paged by id, as those still held
 * stay listed), then the rows from the stored cursor, until a batch reads less than its limit
 * or another sweeper has the job (it then does all of it).
 */
async function* batches<T>(
  held: (after: string | undefined) => Promise<PurgeBatch<T>>,
  next: () => Promise<PurgeBatch<T>>,
  options: HistoryOptions,
): AsyncGenerator<T> {
  let after: string | undefined;
  for (;;) {
    options.signal?.throwIfAborted();
    const batch = await held(after);
    yield* batch.purged;
    if (batch.busy) return;
    if (batch.read < options.purgeBatchSize) break;
    after = batch.last;
  }
  for (;;) {
    options.signal?.throwIfAborted();
    const batch = await next();
    yield* batch.purged;
    if (batch.busy || batch.read < options.purgeBatchSize) return;
  }
}

/** A dry run's pages: it changes nothing, so it pages with a cursor of its own, from the start. */
async function* paged<T, C>(
  page: (after: C | undefined) => Promise<T[]>,
  cursorOf: (row: T) => C,
  options: HistoryOptions,
): AsyncGenerator<T> {
  let after: C | undefined;
  for (;;) {
    options.signal?.throwIfAborted();
    const rows = await page(after);
    yield* rows;
    const last = rows.at(-1);
    if (last === undefined || rows.length < options.purgeBatchSize) return;
    after = cursorOf(last);
  }
}

/** Upload links that expired or were revoked more than `historyDays` ago. */
export async function* links(options: HistoryOptions): AsyncGenerator<SweepEvent> {
  if (options.historyDays <= 0) return;
  const { store, signal, dryRun } = options;
  const endedBefore = cutoff(options);
  const limit = options.purgeBatchSize;
  let after: string | undefined;
  for (;;) {
    signal?.throwIfAborted();
    const ids = dryRun ? await store.findPurgeableLinks({ endedBefore, after, limit }) : await store.purgeLinks({ endedBefore, limit });
    for (const id of ids) yield { job: "links", action: dryRun ? "would-purge" : "purged", bucket: "", key: "", bytes: 0, linkId: id };
    after = ids.at(-1);
    if (ids.length < limit) return;
  }
}

function cutoff(options: HistoryOptions): Date {
  return new Date(options.now.getTime() - options.historyDays * DAY_MS);
}

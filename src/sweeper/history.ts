import type { PurgeCursor } from "../store/sweeper-store.js";
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
 * infected) more than `historyDays` ago are deleted, a batch per statement, oldest first. The
 * store keeps every row something may still need (see `SweeperStore.purgeUploads`): under
 * retention, holding a staging object, a reservation or derivatives, or with an event still
 * being delivered; such a row goes on a later run, once that has settled. Rows only: every
 * object of a finished upload is already gone or left to the orphan job.
 *
 * Each batch is claimed by deleting it, so of two sweepers each row is counted by one; a short
 * batch means nothing else is old enough just now (or another sweeper holds the rest).
 *
 * @example
 * for await (const event of history({ ...common, historyDays: 30, purgeBatchSize: 1000 })) log.info(event);
 */
export async function* history(options: HistoryOptions): AsyncGenerator<SweepEvent> {
  if (options.historyDays <= 0) return;
  const { store, signal, now, dryRun } = options;
  const finishedBefore = cutoff(options);
  const limit = options.purgeBatchSize;
  let after: PurgeCursor | undefined;
  for (;;) {
    signal?.throwIfAborted();
    const rows = dryRun
      ? await store.findPurgeableUploads({ finishedBefore, after, limit, now })
      : await store.purgeUploads({ finishedBefore, after, limit, now });
    for (const row of rows) yield { job: "history", action: dryRun ? "would-purge" : "purged", bucket: row.bucket, key: row.key, bytes: 0, uploadId: row.id };
    const last = rows.at(-1);
    if (last === undefined || rows.length < limit) return;
    after = { at: last.finishedAt, id: last.id };
  }
}

/**
 * The outbox's own history: events written more than `historyDays` ago whose every delivery is
 * settled (delivered, dead, or its endpoint disabled), deleted with their delivery rows.
 */
export async function* outbox(options: HistoryOptions): AsyncGenerator<SweepEvent> {
  if (options.historyDays <= 0) return;
  const { store, signal, dryRun } = options;
  const before = cutoff(options);
  const limit = options.purgeBatchSize;
  let after: string | undefined;
  for (;;) {
    signal?.throwIfAborted();
    const rows = dryRun ? await store.findPurgeableEvents({ before, after, limit }) : await store.purgeEvents({ before, after, limit });
    for (const row of rows) {
      yield { job: "outbox", action: dryRun ? "would-purge" : "purged", bucket: "", key: "", bytes: 0, uploadId: row.uploadId, eventId: row.id };
    }
    after = rows.at(-1)?.id;
    if (rows.length < limit) return;
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

import type { UploadRecord } from "../uploads/record.js";
import type { SweepEvent, SweepJobOptions } from "./events.js";
import { statAll } from "./objects.js";

export const OBJECT_MISSING = "OBJECT_MISSING";

export interface MissingOptions extends SweepJobOptions {
  /**
   * Confirmed uploads checked per run, going on from where the last run stopped and around
   * again from the start; `undefined` checks every one on every run.
   */
  perRun: number | undefined;
}

const CURSOR = "missing";

/**
 * Confirmed uploads whose object is gone from storage (deleted by hand, by a bucket lifecycle
 * rule, lost in a restore). Each page of rows is checked with one HEAD/stat per object; the
 * missing ones move to `expired` with `reject_code` OBJECT_MISSING and their bytes go back to
 * the quota, in one transaction per page.
 *
 * A HEAD per confirmed upload per run adds up (a million uploads swept every 30 minutes is 48
 * million requests a day), so a run checks at most `perRun` of them: after the id the last run
 * stopped at (kept in the store), to the end, then from the start up to that id. Every upload
 * is checked once every (confirmed uploads / `perRun`) runs. A dry run moves no cursor.
 *
 * A row under compliance retention is not changed: a compliance record whose object vanished is
 * an incident for an operator (restore it from backup), so it is reported as `kept` on every
 * run until it is resolved.
 *
 * Only a definite "not found" counts as missing. A stat that fails (store unreachable) stops
 * the job instead, so an outage can never expire healthy uploads (nor move the cursor).
 */
export async function* missing(options: MissingOptions): AsyncGenerator<SweepEvent> {
  const { store, batchSize, signal, perRun } = options;
  const start = perRun === undefined ? undefined : await store.sweepCursor(CURSOR);
  // One pass: from the cursor to the end, then from the start up to the cursor.
  const segments: { after: string | undefined; upTo: string | undefined }[] = start === undefined
    ? [{ after: undefined, upTo: undefined }]
    : [{ after: start, upTo: undefined }, { after: undefined, upTo: start }];
  let checked = 0;
  let last: string | undefined;
  passes: for (const segment of segments) {
    let after = segment.after;
    for (;;) {
      signal?.throwIfAborted();
      const limit = perRun === undefined ? batchSize : Math.min(batchSize, perRun - checked);
      if (limit <= 0) break passes;
      const rows = await store.pageConfirmed({ after, upTo: segment.upTo, limit });
      if (rows.length > 0) {
        yield* check(rows, options);
        checked += rows.length;
        after = last = rows.at(-1)?.id;
      }
      if (rows.length < limit) break;
    }
  }
  if (perRun !== undefined && !options.dryRun && last !== undefined) {
    await store.saveSweepCursor({ job: CURSOR, after: last, now: options.now });
  }
}

/** Stats one page of confirmed uploads and settles the ones whose object is gone. */
async function* check(rows: UploadRecord[], options: MissingOptions): AsyncGenerator<SweepEvent> {
  const { store, driver, now, signal } = options;
  const stats = await statAll(driver, rows, signal);
  const gone: UploadRecord[] = [];
  for (const [i, row] of rows.entries()) {
    const stat = stats[i];
    if (stat?.ok === false) throw new Error(`cannot check ${row.bucket}/${row.key}: ${stat.error}`);
    if (stat?.stat === undefined) gone.push(row);
  }
  const retained = gone.filter((row) => row.retainUntil !== undefined && row.retainUntil > now);
  for (const row of retained) {
    yield {
      ...eventOf(row, "kept"),
      reason: `object missing, but under retention until ${row.retainUntil?.toISOString() ?? ""}: restore it`,
    };
  }
  const expirable = gone.filter((row) => !retained.includes(row));
  if (options.dryRun) {
    for (const row of expirable) yield { ...eventOf(row, "would-expire"), reason: OBJECT_MISSING };
    return;
  }
  // Guarded on `confirmed`: a row deleted by its owner meanwhile is not expired (or refunded) twice.
  const expired = await store.expireMissing({
    ids: expirable.map((row) => row.id),
    code: OBJECT_MISSING,
    reason: "The object is no longer in storage.",
    now,
  });
  for (const row of expired) yield { ...eventOf(row, "expired"), reason: OBJECT_MISSING };
}

function eventOf(row: UploadRecord, action: SweepEvent["action"]): SweepEvent {
  // Nothing to free in storage: the object was already gone. The refund is the row's size.
  return { job: "missing", action, bucket: row.bucket, key: row.key, bytes: 0, uploadId: row.id };
}

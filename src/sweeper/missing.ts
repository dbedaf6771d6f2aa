import type { UploadRecord } from "../store/records.js";
import type { SweepEvent, SweepJobOptions } from "./events.js";
import { statAll } from "./objects.js";

export const OBJECT_MISSING = "OBJECT_MISSING";

/**
 * Confirmed uploads whose object is gone from storage (deleted by hand, by a bucket lifecycle
 * rule, lost in a restore). Each page of rows is checked with one HEAD/stat per object; the
 * missing ones move to `expired` with `reject_code` OBJECT_MISSING and their bytes go back to
 * the quota, in one transaction per page.
 *
 * A row under compliance retention is not changed: a compliance record whose object vanished is
 * an incident for an operator (restore it from backup), so it is reported as `kept` on every
 * run until it is resolved.
 *
 * Only a definite "not found" counts as missing. A stat that fails (store unreachable) stops
 * the job instead, so an outage can never expire healthy uploads.
 */
export async function* missing(options: SweepJobOptions): AsyncGenerator<SweepEvent> {
  const { store, driver, batchSize: limit, now, signal } = options;
  let after: string | undefined;
  for (;;) {
    signal?.throwIfAborted();
    const rows = await store.pageConfirmed({ after, limit });
    if (rows.length === 0) return;
    after = rows.at(-1)?.id;
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
    } else {
      // Guarded on `confirmed`: a row deleted by its owner meanwhile is not expired (or refunded) twice.
      const expired = await store.expireMissing({
        ids: expirable.map((row) => row.id),
        code: OBJECT_MISSING,
        reason: "The object is no longer in storage.",
        now,
      });
      for (const row of expired) yield { ...eventOf(row, "expired"), reason: OBJECT_MISSING };
    }
    if (rows.length < limit) return;
  }
}

function eventOf(row: UploadRecord, action: SweepEvent["action"]): SweepEvent {
  // Nothing to free in storage: the object was already gone. The refund is the row's size.
  return { job: "missing", action, bucket: row.bucket, key: row.key, bytes: 0, uploadId: row.id };
}

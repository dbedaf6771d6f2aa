import type { UploadRecord } from "../store/records.js";
import { SECOND_MS, type SweepEvent, type SweepJobOptions } from "./events.js";
import { byBucket, deleteKeys, mapLimit, CONCURRENCY, messageOf, statAll } from "./objects.js";

export interface AbandonedOptions extends SweepJobOptions {
  /**
   * How long after its URL expired a pending upload is left alone. A client may have finished
   * its PUT just before expiry and not confirmed yet; this is its time to do so.
   */
  graceSeconds: number;
}

/**
 * Pending uploads nobody finished: the URL expired more than `graceSeconds` ago. Each batch is
 * claimed by moving its rows to `expired` first (one guarded UPDATE), so of two sweepers each
 * row goes to exactly one; then the claimed uploads' objects are deleted and their multipart
 * uploads aborted. Should a delete fail, the row stays expired and the object becomes an
 * orphan, which the orphan job removes on a later run.
 *
 * @example
 * for await (const event of abandoned({ store, driver, policies, now: new Date(), batchSize: 500, dryRun: false, graceSeconds: 3600 })) {
 *   log.info(event);
 * }
 */
export async function* abandoned(options: AbandonedOptions): AsyncGenerator<SweepEvent> {
  const { store, batchSize: limit, signal } = options;
  const expiredBefore = new Date(options.now.getTime() - options.graceSeconds * SECOND_MS);
  let after: string | undefined;
  for (;;) {
    signal?.throwIfAborted();
    const rows = options.dryRun
      ? await store.findAbandoned({ expiredBefore, after, limit })
      : await store.claimAbandoned({ expiredBefore, limit, now: options.now });
    if (rows.length === 0) return;
    yield* settle(rows, options);
    after = rows.at(-1)?.id;
    // A short batch means nothing else matched just now (or another sweeper holds the rest).
    if (rows.length < limit) return;
  }
}

/** Deletes the objects of claimed rows (those that exist) and aborts their multipart uploads. */
async function* settle(rows: readonly UploadRecord[], options: AbandonedOptions): AsyncGenerator<SweepEvent> {
  const { driver, signal, dryRun } = options;
  // Stat first: a pending upload may never have been uploaded, and the report counts real bytes.
  const stats = await statAll(driver, rows, signal);
  const problems = new Map<string, string>();
  const abortFailed = new Set<string>();
  const existing: UploadRecord[] = [];
  rows.forEach((row, i) => {
    const stat = stats[i];
    if (stat?.ok === false) problems.set(row.id, `stat failed: ${stat.error}`);
    if (stat?.ok === false || stat?.stat !== undefined) existing.push(row);
  });
  if (!dryRun) {
    for (const [bucket, group] of byBucket(existing)) {
      const failed = await deleteKeys(driver, bucket, group.map((row) => row.key), signal);
      for (const row of group) {
        const why = failed.get(row.key);
        if (why !== undefined) problems.set(row.id, `object left for the orphan sweep: ${why}`);
      }
    }
    await mapLimit(rows.filter((row) => row.multipart !== undefined), CONCURRENCY, async (row) => {
      const uploadId = row.multipart?.uploadId ?? "";
      try {
        await driver.abortMultipart?.({ bucket: row.bucket, key: row.key, uploadId });
      } catch (error) {
        signal?.throwIfAborted();
        abortFailed.add(row.id);
        problems.set(row.id, `multipart abort failed (the store's lifecycle rule drops its parts): ${messageOf(error)}`);
      }
    });
  }
  for (const [i, row] of rows.entries()) {
    const stat = stats[i];
    const error = problems.get(row.id);
    const event: SweepEvent = {
      job: "abandoned",
      action: dryRun ? "would-expire" : "expired",
      bucket: row.bucket,
      key: row.key,
      bytes: stat?.ok === true && error === undefined ? (stat.stat?.size ?? 0) : 0,
      uploadId: row.id,
    };
    if (row.multipart !== undefined && !abortFailed.has(row.id)) event.multipartAborted = true;
    if (error !== undefined) event.error = error;
    yield event;
  }
}

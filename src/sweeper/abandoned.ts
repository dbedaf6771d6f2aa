import type { UploadRecord } from "../uploads/record.js";
import { stagingOf } from "../uploads/staging.js";
import { SECOND_MS, type SweepEvent, type SweepJobOptions } from "./events.js";
import { byBucket, CONCURRENCY, deleteKeys, mapLimit, messageOf } from "./objects.js";

export interface AbandonedOptions extends SweepJobOptions {
  /**
   * How long after its URL expired a pending upload is left alone. A client may have finished
   * its PUT just before expiry and not confirmed yet; this is its time to do so.
   */
  graceSeconds: number;
}

/**
 * Pending uploads nobody finished: the URL expired more than `graceSeconds` ago. Each batch is
 * claimed by moving its rows to `expired` first (one guarded UPDATE, which also gives back any
 * reservation still held), so of two sweepers each row goes to exactly one; then the claimed
 * uploads' staging objects (and any copy a confirm that died half-way made) are deleted and
 * their multipart uploads aborted. Should a delete fail, the row stays expired and the object becomes an
 * orphan, which the orphan job removes on a later run.
 *
 * @example
 * for await (const event of abandoned({ store, driver, policies, now: new Date(), batchSize: 200, dryRun: false, graceSeconds: 3600 })) {
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

/**
 * Deletes the objects of claimed rows and aborts their multipart uploads. No HEAD/stat first:
 * deleting a missing object is a no-op by the driver contract, and on S3 one DeleteObjects call
 * covers 1000 keys where checking would take 1000 HEADs (on local disk, stat-then-delete measured
 * 4.5× slower than delete alone). So `bytes` is each upload's declared size: exactly what its
 * object holds when one was uploaded (the signed length), an upper bound otherwise.
 */
async function* settle(rows: readonly UploadRecord[], options: AbandonedOptions): AsyncGenerator<SweepEvent> {
  const { driver, signal, dryRun } = options;
  const problems = new Map<string, string>();
  const abortFailed = new Set<string>();
  if (!dryRun) {
    const objects = rows.flatMap((row) => {
      const staging = stagingOf(row);
      const both = [{ row, bucket: staging.bucket, key: staging.key }, { row, bucket: row.bucket, key: row.key }];
      return staging.bucket === row.bucket && staging.key === row.key ? both.slice(0, 1) : both;
    });
    for (const [bucket, group] of byBucket(objects)) {
      const failed = await deleteKeys(driver, bucket, group.map((object) => object.key), signal);
      for (const { row, key } of group) {
        const why = failed.get(key);
        if (why !== undefined) problems.set(row.id, `object left for the orphan sweep: ${why}`);
      }
    }
    const cleared = rows.filter((row) => row.staging !== undefined && !problems.has(row.id));
    await options.store.clearStaging({ rows: cleared.map((row) => ({ id: row.id, stagingKey: row.staging?.key ?? "" })) });
    await mapLimit(rows.filter((row) => row.multipart !== undefined), CONCURRENCY, async (row) => {
      const uploadId = row.multipart?.uploadId ?? "";
      try {
        await driver.abortMultipart?.({ ...stagingOf(row), uploadId });
      } catch (error) {
        signal?.throwIfAborted();
        abortFailed.add(row.id);
        problems.set(row.id, `multipart abort failed (the store's lifecycle rule drops its parts): ${messageOf(error)}`);
      }
    });
  }
  for (const row of rows) {
    const error = problems.get(row.id);
    const event: SweepEvent = {
      job: "abandoned",
      action: dryRun ? "would-expire" : "expired",
      bucket: row.bucket,
      key: row.key,
      bytes: error === undefined ? row.declaredSize : 0,
      uploadId: row.id,
    };
    if (row.multipart !== undefined && !abortFailed.has(row.id)) event.multipartAborted = true;
    if (error !== undefined) event.error = error;
    yield event;
  }
}

import type { ObjectInfo } from "../storage/driver.js";
import { PROBE_PREFIX } from "../storage/s3/init.js";
import type { ScanTarget } from "./buckets.js";
import { SECOND_MS, type SweepEvent, type SweepJobOptions } from "./events.js";
import { deleteKeys, MAX_DELETE_BATCH } from "./objects.js";

export interface OrphanOptions extends SweepJobOptions {
  /** Where to look (see `scanTargets`). */
  targets: readonly ScanTarget[];
  /** Objects modified more recently than this are left alone, whatever the database says. */
  graceSeconds: number;
}

/**
 * Objects with no upload that needs them: no `pending` or `confirmed` row, and no row under
 * retention. They come from deletes that failed after their row changed, expired rows whose
 * delete failed, or rows lost in a restore. The listing streams in batches of up to 1000 keys;
 * each batch is looked up in one query and deleted in one request (S3 DeleteObjects), so
 * memory stays flat however large the bucket.
 *
 * The grace protects the one window where an object may exist before the database shows why,
 * and makes the job safe against clock and replication lag: nothing recent is ever touched.
 */
export async function* orphans(options: OrphanOptions): AsyncGenerator<SweepEvent> {
  const { driver, signal } = options;
  const cutoff = options.now.getTime() - options.graceSeconds * SECOND_MS;
  const size = Math.min(Math.max(1, options.batchSize), MAX_DELETE_BATCH);
  for (const target of options.targets) {
    const [listed] = target.buckets;
    if (listed === undefined) continue;
    for (const prefix of target.prefixes) {
      let batch: ObjectInfo[] = [];
      for await (const object of driver.list({ bucket: listed, prefix, ...(signal === undefined ? {} : { signal }) })) {
        // Left by `stowage storage init` when killed mid-probe; never an upload.
        if (object.key.startsWith(PROBE_PREFIX)) continue;
        if (object.invalidKey !== undefined) {
          // The driver can neither look it up nor delete it: said once per run, and the sweep goes on.
          const error = `not a valid object key (${object.invalidKey}): left in place; rename or remove it`;
          yield { job: "orphans", action: "skipped", bucket: listed, key: object.key, bytes: 0, error };
          continue;
        }
        if (object.lastModified.getTime() >= cutoff) continue;
        batch.push(object);
        if (batch.length >= size) {
          yield* settle(batch, target, listed, options);
          batch = [];
        }
      }
      if (batch.length > 0) yield* settle(batch, target, listed, options);
    }
  }
}

async function* settle(
  batch: readonly ObjectInfo[],
  target: ScanTarget,
  bucket: string,
  options: OrphanOptions,
): AsyncGenerator<SweepEvent> {
  options.signal?.throwIfAborted();
  const kept = await options.store.keptKeys({ buckets: target.buckets, keys: batch.map((o) => o.key), now: options.now });
  const doomed = batch.filter((object) => !kept.has(object.key));
  if (doomed.length === 0) return;
  const keys = doomed.map((o) => o.key);
  const failed = options.dryRun ? new Map<string, string>() : await deleteKeys(options.driver, bucket, keys, options.signal);
  for (const object of doomed) {
    const error = failed.get(object.key);
    const event: SweepEvent = {
      job: "orphans",
      action: options.dryRun ? "would-delete" : error === undefined ? "deleted" : "failed",
      bucket,
      key: object.key,
      bytes: error === undefined ? object.size : 0,
    };
    if (error !== undefined) event.error = error;
    yield event;
  }
}

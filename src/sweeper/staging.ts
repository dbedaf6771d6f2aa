import type { UploadRecord } from "../uploads/record.js";
import { sameObject, stagingOf } from "../uploads/staging.js";
import type { SweepEvent, SweepJobOptions } from "./events.js";
import { byBucket, deleteKeys } from "./objects.js";
import { isServable } from "../uploads/lifecycle.js";

/**
 * Staging objects of settled uploads (confirmed, rejected, deleted, expired) whose URL has
 * expired. A confirmed PUT keeps its staging object until then, so a second PUT to the same URL
 * still meets `If-None-Match: *`; once the URL is dead the object only takes space. Never the
 * served object itself (rows from before staging keys, whose staging place is their key).
 * Deleting twice is harmless, so two sweepers need no claim; each row is cleared only if it
 * still names the deleted key.
 */
export async function* staging(options: SweepJobOptions): AsyncGenerator<SweepEvent> {
  const { store, batchSize: limit, signal, now } = options;
  let after: string | undefined;
  for (;;) {
    signal?.throwIfAborted();
    const rows = await store.findStaged({ expiredBefore: now, after, limit });
    yield* settle(rows, options);
    after = rows.at(-1)?.id;
    if (rows.length < limit) return;
  }
}

async function* settle(rows: readonly UploadRecord[], options: SweepJobOptions): AsyncGenerator<SweepEvent> {
  const served = (row: UploadRecord) => isServable(row.status) && sameObject(stagingOf(row), row);
  const doomed = rows.filter((row) => !served(row)).map((row) => ({ row, ...stagingOf(row) }));
  const failed = new Map<string, string>();
  if (!options.dryRun) {
    for (const [bucket, group] of byBucket(doomed)) {
      for (const [key, why] of await deleteKeys(options.driver, bucket, group.map((o) => o.key), options.signal)) failed.set(key, why);
    }
    const cleared = rows.filter((row) => !failed.has(stagingOf(row).key));
    await options.store.clearStaging({ rows: cleared.map((row) => ({ id: row.id, stagingKey: stagingOf(row).key })) });
  }
  for (const { row, bucket, key } of doomed) {
    const error = failed.get(key);
    const event: SweepEvent = {
      job: "staging",
      action: options.dryRun ? "would-delete" : error === undefined ? "deleted" : "failed",
      bucket,
      key,
      // What a staging object holds is not known without a HEAD (a sealed one is empty; on local
      // disk a confirmed one shares its file with the served copy), so no bytes are claimed.
      bytes: 0,
      uploadId: row.id,
    };
    if (error !== undefined) event.error = error;
    yield event;
  }
}

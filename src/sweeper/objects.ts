import type { ObjectStat, StorageDriver } from "../storage/driver.js";

/** Parallel requests per batch: enough to hide S3 latency, few enough not to be throttled. */
export const CONCURRENCY = 16;
/** S3 DeleteObjects takes at most this many keys. */
export const MAX_DELETE_BATCH = 1000;

/** `fn` over `items`, at most `limit` at a time, results in order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** The stat of each object, `undefined` when it does not exist; a failed stat is returned, not thrown. */
export function statAll(
  driver: StorageDriver,
  refs: readonly { bucket: string; key: string }[],
  signal: AbortSignal | undefined,
): Promise<({ ok: true; stat: ObjectStat | undefined } | { ok: false; error: string })[]> {
  return mapLimit(refs, CONCURRENCY, async (ref) => {
    try {
      return { ok: true as const, stat: await driver.stat({ ...ref, ...(signal === undefined ? {} : { signal }) }) };
    } catch (error) {
      signal?.throwIfAborted();
      return { ok: false as const, error: messageOf(error) };
    }
  });
}

/**
 * Deletes `keys` of one bucket: DeleteObjects in requests of up to 1000 keys where the driver
 * has it, else one DELETE per key. Returns the keys that could not be deleted, with why; a
 * failed batch request counts every key in it as failed (some may be gone: deleting again is
 * harmless, and the orphan sweep retries whatever is left).
 */
export async function deleteKeys(
  driver: StorageDriver,
  bucket: string,
  keys: readonly string[],
  signal: AbortSignal | undefined,
): Promise<Map<string, string>> {
  const failed = new Map<string, string>();
  const io = signal === undefined ? {} : { signal };
  if (driver.deleteMany !== undefined) {
    for (let start = 0; start < keys.length; start += MAX_DELETE_BATCH) {
      const chunk = keys.slice(start, start + MAX_DELETE_BATCH);
      try {
        await driver.deleteMany({ bucket, keys: chunk, ...io });
      } catch (error) {
        signal?.throwIfAborted();
        for (const key of chunk) failed.set(key, messageOf(error));
      }
    }
    return failed;
  }
  await mapLimit(keys, CONCURRENCY, async (key) => {
    try {
      await driver.delete({ bucket, key, ...io });
    } catch (error) {
      signal?.throwIfAborted();
      failed.set(key, messageOf(error));
    }
  });
  return failed;
}

/** Groups items by bucket, keeping their order within each. */
export function byBucket<T extends { bucket: string }>(items: readonly T[]): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const group = groups.get(item.bucket);
    if (group === undefined) groups.set(item.bucket, [item]);
    else group.push(item);
  }
  return groups;
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

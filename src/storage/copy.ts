import { createHash, type Hash } from "node:crypto";
import { pipeline, type Readable, Transform } from "node:stream";
import type { IoOptions, ObjectInfo, ObjectRef, StorageDriver } from "./driver.js";
import { describeS3Error } from "./s3/describe-error.js";

/**
 * Where objects are copied from: anything that lists objects, streams one and knows the
 * cache-control it was uploaded with. `LocalDriver` is one.
 */
export interface CopySource {
  list(options: { bucket: string } & IoOptions): AsyncIterable<ObjectInfo>;
  openRead(ref: ObjectRef): Readable;
  cacheControlOf(ref: ObjectRef): Promise<string | undefined>;
}

/** Where objects are copied to. `S3Driver` is one. */
export type CopyTarget = Pick<StorageDriver, "stat" | "put" | "delete">;

export interface CopyOptions {
  /** Decide and report, but write and delete nothing. */
  dryRun?: boolean;
  /** Stops between objects and aborts the object in flight (which then never appears). */
  signal?: AbortSignal;
}

export interface CopyResult {
  /** The logical bucket, the same name on both sides. */
  bucket: string;
  key: string;
  size: number;
  /** `invalid`: the source holds an entry whose name is no valid key (see `ObjectInfo.invalidKey`); not copied. */
  outcome: "copied" | "skipped" | "failed" | "would-copy" | "invalid";
  /** Why it failed, or why it is invalid. */
  error?: string;
}

/**
 * Copies every object of `buckets` from `source` to `target`, one at a time, yielding one result
 * per object. Keys and logical bucket names are the same on both sides, so upload records in the
 * database stay valid as they are: after the copy, pointing Stowage at the target is the whole
 * migration.
 *
 * Resumable: an object the target already has with the same size and MD5 is skipped, so running
 * it again after an interruption continues where it stopped. Bytes stream through, never
 * buffered whole: memory stays flat however large the objects are.
 *
 * @example
 * for await (const result of copyObjects(local, s3, ["public", "private"], { signal })) {
 *   if (result.outcome === "failed") console.error(result.key, result.error);
 * }
 */
export async function* copyObjects(
  source: CopySource,
  target: CopyTarget,
  buckets: readonly string[],
  options: CopyOptions = {},
): AsyncGenerator<CopyResult> {
  const { signal } = options;
  for (const bucket of buckets) {
    for await (const object of source.list({ bucket, ...(signal === undefined ? {} : { signal }) })) {
      signal?.throwIfAborted();
      const ref = { bucket, key: object.key };
      const base = { bucket, key: object.key, size: object.size };
      if (object.invalidKey !== undefined) {
        // Never an upload's (keys are made by the server): reported for an operator, and the run goes on.
        yield { ...base, outcome: "invalid", error: `not a valid object key (${object.invalidKey}): not copied; rename or remove it` };
        continue;
      }
      let result: CopyResult;
      try {
        result = { ...base, outcome: await copyOne(source, target, ref, object, options) };
      } catch (error) {
        // An abort ends the whole run; anything else fails this object only.
        if (signal?.aborted) throw error;
        result = { ...base, outcome: "failed", error: describeS3Error(error) };
      }
      yield result;
    }
  }
}

/** Objects and bytes `copyObjects` will walk over, for progress totals (a listing, no reads). */
export async function tallyObjects(
  source: Pick<CopySource, "list">,
  buckets: readonly string[],
  options: IoOptions = {},
): Promise<{ objects: number; bytes: number }> {
  let objects = 0;
  let bytes = 0;
  for (const bucket of buckets) {
    for await (const object of source.list({ bucket, ...options })) {
      objects++;
      bytes += object.size;
    }
  }
  return { objects, bytes };
}

async function copyOne(
  source: CopySource,
  target: CopyTarget,
  ref: ObjectRef,
  object: ObjectInfo,
  options: CopyOptions,
): Promise<CopyResult["outcome"]> {
  const io = options.signal === undefined ? {} : { signal: options.signal };
  const existing = await target.stat({ ...ref, ...io });
  if (existing !== undefined && existing.size === object.size) {
    if (await sameBytes(existing.etag, () => md5Of(source.openRead(ref)))) return "skipped";
  }
  if (options.dryRun) return "would-copy";
  if (existing !== undefined) {
    // Other bytes at this key: a corrupt earlier copy, or one written by something else. The
    // source is the truth here, and put() refuses to overwrite (If-None-Match), so the stale
    // object goes first. (PutObject is atomic: an interrupted copy leaves nothing, not a stub.)
    // Keys embed a UUIDv7, so this is never another logical bucket's object in a shared bucket.
    await target.delete({ ...ref, ...io });
  }

  const cacheControl = await source.cacheControlOf(ref);
  const hash = createHash("md5");
  const body = hashing(source.openRead(ref), hash);
  try {
    await target.put({
      ...ref,
      ...io,
      body,
      contentLength: object.size,
      // What the object was uploaded with, so it serves the same from the new store.
      contentType: object.contentType ?? "application/octet-stream",
      cacheControl,
    });
  } finally {
    // A put that fails before reading its body would otherwise leave the file open.
    body.destroy();
  }
  const md5 = hash.digest("hex");

  // Verify with a fresh HEAD rather than trusting what put() reports: a single-part PUT's ETag is
  // the MD5 of the bytes the store kept, so equal ETags prove the bytes arrived intact. (Not so
  // under SSE-KMS or SSE-C, where the ETag is no MD5: such a bucket would need Content-MD5 sent
  // with the PUT instead, which costs a second read of every file.)
  const stored = await target.stat({ ...ref, ...io });
  if (stored === undefined) throw new Error("verification failed: the object is missing right after it was written");
  if (stored.size !== object.size || unquote(stored.etag) !== md5) {
    await target.delete({ ...ref, ...io });
    throw new Error(
      `verification failed: the target has ${stored.size} bytes with ETag ${stored.etag}, the source ${object.size} bytes with MD5 ${md5}; the target object was deleted`,
    );
  }
  return "copied";
}

/**
 * Whether a target object holds the source's bytes. A multipart ETag (`"<md5 of md5s>-<parts>"`)
 * is not the MD5 of the content and cannot be recomputed without the part sizes; for those the
 * size match must do, which is safe because Stowage keys are never reused for other bytes.
 */
async function sameBytes(etag: string, sourceMd5: () => Promise<string>): Promise<boolean> {
  const tag = unquote(etag);
  if (tag.includes("-")) return true;
  return tag === (await sourceMd5());
}

async function md5Of(stream: Readable): Promise<string> {
  const hash = createHash("md5");
  for await (const chunk of stream) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

/** Passes `body` through unchanged, feeding every chunk to `hash` on the way. */
function hashing(body: Readable, hash: Hash): Readable {
  const tap = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      callback(null, chunk);
    },
  });
  // pipeline() ties their fates: a read error fails the upload, an aborted upload closes the file.
  pipeline(body, tap, () => undefined);
  return tap;
}

function unquote(etag: string): string {
  return etag.replace(/^(W\/)?"|"$/g, "");
}

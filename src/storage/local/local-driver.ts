import { createHash, randomUUID } from "node:crypto";
import { createReadStream, createWriteStream, type ReadStream, type Stats } from "node:fs";
import { access, constants, link, lstat, mkdir, open, readdir, readFile, rename, rm, unlink, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { type Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { isStowageError, StowageError } from "../../errors.js";
import type {
  CompletedPart,
  CopyOptions,
  IoOptions,
  ObjectHead,
  ObjectInfo,
  ObjectRef,
  ObjectStat,
  PresignedRequest,
  PresignGetOptions,
  PresignPartOptions,
  PresignPutOptions,
  PutOptions,
  StorageCapability,
  StorageDriver,
  StoredPart,
} from "../driver.js";
import { badDigest } from "../bad-digest.js";
import { walkFiles } from "./list.js";
import { LocalMultipart, type PartUpload } from "./multipart.js";
import { assertSafeBucket, keyProblem, resolveInside } from "./safe-path.js";
import { guardFs, isFsUnavailable, statOrUndefined } from "./fs-errors.js";
import { type Authorized, type LocalBucket, LocalUrls, type ObjectRequest } from "./local-urls.js";

export type { LocalBucket } from "./local-urls.js";

export interface LocalDriverOptions {
  /** Directory holding `objects/`, `meta/` and `tmp/`. */
  root: string;
  /** The externally reachable base URL of this Stowage instance, e.g. `http://127.0.0.1:8080`. */
  baseUrl: string;
  /** HMAC secret for upload and download URLs. */
  signingSecret: string;
  buckets: Readonly<Record<string, LocalBucket>>;
  /** Injectable clock, for expiry tests. */
  now?: () => Date;
}

interface ObjectMeta {
  contentType: string;
  cacheControl: string | undefined;
}

/**
 * Objects on local disk, served by Stowage's own `/storage/{bucket}/{key}` route with
 * HMAC-signed URLs. Layout under `root`: `objects/{bucket}/{key}` for bytes,
 * `meta/{bucket}/{key}.json` for the recorded type and cache-control, `tmp/` for uploads in
 * flight. An upload becomes visible only by a hard link from `tmp/` once it is complete and of
 * exactly the signed length; `link(2)` fails if the key exists, which makes every key
 * write-once without a lock.
 */
export class LocalDriver implements StorageDriver {
  readonly name = "local";
  readonly capabilities: ReadonlySet<StorageCapability> = new Set(["conditional-write", "multipart"]);
  readonly #options: LocalDriverOptions;
  readonly #objects: string;
  readonly #meta: string;
  readonly #tmp: string;
  /** Uploads being streamed to `tmp/` right now. */
  readonly #writes = new Set<Promise<unknown>>();
  readonly #urls: LocalUrls;
  readonly #multipart: LocalMultipart;

  constructor(options: LocalDriverOptions) {
    this.#options = options;
    this.#objects = join(options.root, "objects");
    this.#meta = join(options.root, "meta");
    this.#tmp = join(options.root, "tmp");
    this.#urls = new LocalUrls({
      baseUrl: options.baseUrl,
      signingSecret: options.signingSecret,
      buckets: options.buckets,
      now: options.now ?? (() => new Date()),
    });
    this.#multipart = new LocalMultipart(this.#tmp);
  }

  presignPut(options: PresignPutOptions): Promise<PresignedRequest> {
    return Promise.resolve(this.#urls.presignPut(options));
  }

  presignGet(options: PresignGetOptions): Promise<PresignedRequest> {
    return Promise.resolve(this.#urls.presignGet(options));
  }

  presignPart(options: PresignPartOptions): Promise<PresignedRequest> {
    return Promise.resolve(this.#urls.presignPart(options));
  }

  publicUrl(ref: ObjectRef): string | undefined {
    return this.#urls.publicUrl(ref);
  }

  browserOrigins(): string[] {
    return this.#urls.origins();
  }

  /** Checks a request to `/storage/{bucket}/{key}` against its signature (see LocalUrls). */
  authorize(request: ObjectRequest): Authorized {
    this.#bucket(request.bucket);
    if (request.method === "PUT" && request.contentLength === undefined) {
      throw new StowageError("LENGTH_REQUIRED", "Content-Length is required for uploads.");
    }
    return this.#urls.authorize(request);
  }

  /** Creates the directory layout; call once before serving. */
  async init(): Promise<void> {
    await guardFs(async () => {
      for (const dir of [this.#objects, this.#meta, this.#tmp])
        await mkdir(dir, { recursive: true });
    });
  }

  /**
   * Removes the files a killed process left in `tmp/` (an upload cut by `kill -9`) that nothing
   * has written to for `olderThanMs`: a live upload keeps its file's mtime fresh, and a stalled
   * one is cut long before. Multipart parts (`tmp/multipart/`) belong to their upload and go
   * with it. Returns how many were removed.
   */
  async removeStaleTemp(olderThanMs: number, now = Date.now()): Promise<number> {
    return guardFs(async () => {
      let removed = 0;
      for (const entry of await readdir(this.#tmp, { withFileTypes: true })) {
        if (!entry.isFile()) continue;
        const path = join(this.#tmp, entry.name);
        const info = await lstat(path).catch(() => undefined);
        if (info === undefined || now - info.mtimeMs < olderThanMs) continue;
        await rm(path, { force: true });
        removed += 1;
      }
      return removed;
    });
  }

  async stat(ref: ObjectRef & IoOptions): Promise<ObjectStat | undefined> {
    const path = this.#path(ref);
    return guardFs(async () => {
      const info = await statOrUndefined(path);
      // Only regular files are objects: a key's folder (`avatars/carol@example.com`) is not one,
      // and must not answer as if it were (it would tell which users exist).
      return info?.isFile() === true ? this.#statOf(ref, info) : undefined;
    });
  }

  async #statOf(ref: ObjectRef, info: Stats): Promise<ObjectStat> {
    const meta = await this.#readMeta(ref);
    return {
      size: info.size,
      contentType: meta?.contentType,
      etag: `"${info.size.toString(16)}-${Math.floor(info.mtimeMs).toString(16)}"`,
      lastModified: info.mtime,
    };
  }

  /** Cache-control recorded for an object at upload time. */
  async cacheControlOf(ref: ObjectRef): Promise<string | undefined> {
    return (await this.#readMeta(ref))?.cacheControl;
  }

  async read(options: ObjectRef & IoOptions & { ifMatch?: string | undefined }): Promise<Readable> {
    const stat = await this.stat(options);
    if (stat === undefined) throw new StowageError("NOT_FOUND", "No such object.");
    if (options.ifMatch !== undefined && stat.etag !== options.ifMatch) {
      throw new StowageError("UPLOAD_CHANGED", "The object changed since it was verified.");
    }
    // Objects are never rewritten in place (a put goes to a temp file, renamed over), so the
    // file opened here is the one just stat'd or a newer whole one, never a torn mix.
    return this.openRead(options);
  }

  /** The stat and the bytes of one open file: a put renames a new file in, never rewrites one. */
  async readHead(options: ObjectRef & IoOptions & { length: number }): Promise<ObjectHead | undefined> {
    const path = this.#path(options);
    return guardFs(async () => {
      const handle = await open(path, "r").catch((error: NodeJS.ErrnoException) => {
        if (error.code === "ENOENT" || error.code === "ENOTDIR") return undefined;
        throw error;
      });
      if (handle === undefined) return undefined;
      try {
        const info = await handle.stat();
        if (!info.isFile()) return undefined;
        const stat = await this.#statOf(options, info);
        const buffer = Buffer.alloc(Math.min(options.length, stat.size));
        const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
        return { stat, bytes: buffer.subarray(0, bytesRead) };
      } finally {
        await handle.close();
      }
    });
  }

  /** A read stream over `[start, end]` (inclusive), for the serving route. */
  openRead(ref: ObjectRef, range?: { start: number; end: number }): ReadStream {
    return createReadStream(this.#path(ref), range);
  }

  put(options: PutOptions): Promise<ObjectStat> {
    return this.#track(this.#put(options));
  }

  /** Waits until every upload being written has finished or failed (and removed its temp file). */
  async settle(): Promise<void> {
    await Promise.allSettled([...this.#writes]);
  }

  #track<T>(work: Promise<T>): Promise<T> {
    this.#writes.add(work);
    void work.finally(() => this.#writes.delete(work)).catch(() => undefined);
    return work;
  }

  async #put(options: PutOptions): Promise<ObjectStat> {
    const finalPath = this.#path(options);
    this.#bucket(options.bucket);
    return guardFs(async () => {
      // Early refusal saves streaming a body that could never land; link() below is the real guard.
      if ((await statOrUndefined(finalPath)) !== undefined) throw objectExists();
      const tmpPath = join(this.#tmp, randomUUID());
      try {
        let received = 0;
        const limit = options.contentLength;
        // Hashed as it streams (no second read of the file): checked before the file is linked in.
        const hash = options.contentMd5 === undefined ? undefined : createHash("md5");
        const counter = new Transform({
          transform(chunk: Buffer, _encoding, callback) {
            received += chunk.length;
            hash?.update(chunk);
            if (received > limit) {
              callback(
                new StowageError(
                  "BODY_TOO_LARGE",
                  "The body is longer than its signed Content-Length.",
                ),
              );
            } else callback(null, chunk);
          },
        });
        const sink = createWriteStream(tmpPath, { flags: "wx", flush: true });
        const pipelineOptions = options.signal === undefined ? {} : { signal: options.signal };
        await pipeline(options.body, counter, sink, pipelineOptions).catch((error: unknown) => {
          if (isStowageError(error)) throw error;
          if (isFsUnavailable(error)) throw error;
          throw new StowageError("INCOMPLETE_BODY", "The upload ended before all bytes arrived.", {
            cause: error,
          });
        });
        if (received !== limit) {
          throw new StowageError("INCOMPLETE_BODY", `Received ${received} of ${limit} bytes.`);
        }
        const computedMd5 = hash?.digest("base64");
        if (options.contentMd5 !== undefined && computedMd5 !== options.contentMd5) throw badDigest(options.contentMd5, computedMd5);
        await this.#commit(tmpPath, options, { contentType: options.contentType, cacheControl: options.cacheControl });
      } finally {
        await rm(tmpPath, { force: true });
      }
      const result = await this.stat(options);
      if (result === undefined)
        throw new StowageError("STORAGE_UNAVAILABLE", "Object vanished after write.");
      return result;
    });
  }

  async createMultipart(options: ObjectRef & { contentType: string; cacheControl: string }): Promise<{ uploadId: string }> {
    this.#path(options);
    this.#bucket(options.bucket);
    return { uploadId: await guardFs(() => this.#multipart.create(options)) };
  }

  /** Stores one part of a multipart upload (for the serving route); returns its ETag. */
  putPart(options: PartUpload): Promise<string> {
    this.#path(options);
    return this.#track(guardFs(() => this.#multipart.putPart(options)));
  }

  async completeMultipart(options: ObjectRef & { uploadId: string; parts: readonly CompletedPart[] }): Promise<void> {
    const finalPath = this.#path(options);
    await guardFs(async () => {
      if ((await statOrUndefined(finalPath)) !== undefined) throw objectExists();
      const tmpPath = join(this.#tmp, randomUUID());
      try {
        const manifest = await this.#multipart.assemble(options, tmpPath);
        await this.#commit(tmpPath, options, { contentType: manifest.contentType, cacheControl: manifest.cacheControl });
      } finally {
        await rm(tmpPath, { force: true });
      }
      await this.#multipart.abort(options.uploadId);
    });
  }

  async listParts(options: ObjectRef & { uploadId: string }): Promise<StoredPart[]> {
    this.#path(options);
    return guardFs(() => this.#multipart.list(options));
  }

  async abortMultipart(options: ObjectRef & { uploadId: string }): Promise<void> {
    await guardFs(() => this.#multipart.abort(options.uploadId));
  }

  /**
   * A hard link: the copy costs no bytes and is as immutable as its source (an upload is never
   * written in place; a new one is a new file linked in). Only the metadata is the copy's own.
   */
  async copy(options: CopyOptions): Promise<ObjectStat> {
    const from = this.#path(options.from);
    const to = this.#path(options.to);
    this.#bucket(options.to.bucket);
    return guardFs(async () => {
      const source = await this.stat(options.from);
      if (source === undefined) throw new StowageError("NOT_FOUND", "No such object.");
      if (options.ifMatch !== undefined && source.etag !== options.ifMatch) throw uploadChanged();
      await mkdir(dirname(to), { recursive: true });
      await link(from, to).catch(async (error: NodeJS.ErrnoException) => {
        if (error.code !== "EEXIST") throw error;
        // A retried copy finds its own earlier link: the same file. Anything else is a bug.
        const [a, b] = await Promise.all([statOrUndefined(from), statOrUndefined(to)]);
        if (a === undefined || b === undefined || a.ino !== b.ino) throw objectExists();
      });
      await this.#writeMeta(options.to, { contentType: options.contentType, cacheControl: options.cacheControl });
      const copied = await this.stat(options.to);
      if (copied === undefined) throw new StowageError("STORAGE_UNAVAILABLE", "The copy vanished right after it was made.");
      return copied;
    });
  }

  /** An empty file renamed over the key: `link(2)` of any later upload then fails (412). */
  async seal(ref: ObjectRef & IoOptions): Promise<void> {
    const path = this.#path(ref);
    this.#bucket(ref.bucket);
    await guardFs(async () => {
      const tmp = join(this.#tmp, randomUUID());
      await mkdir(dirname(path), { recursive: true });
      await writeFile(tmp, "", { flag: "wx" });
      await rename(tmp, path).catch(async (error: unknown) => {
        await rm(tmp, { force: true });
        throw error;
      });
      await unlinkIfPresent(this.#metaPath(ref));
    });
  }

  async delete(ref: ObjectRef & IoOptions): Promise<void> {
    const path = this.#path(ref);
    // unlink, not rm({force}): rm stats first and handles directories; a missing file is fine.
    await guardFs(() => Promise.all([unlinkIfPresent(path), unlinkIfPresent(this.#metaPath(ref))]));
  }

  async* list(options: { bucket: string; prefix?: string } & IoOptions): AsyncIterable<ObjectInfo> {
    this.#bucket(options.bucket);
    const bucketDir = join(this.#objects, options.bucket);
    for await (const file of walkFiles(bucketDir, options.prefix ?? "", options.signal)) {
      // A file put there by hand may have a name no key can reach (a backslash, say): listed with
      // the reason, never read (its metadata path would be refused too, ending the whole listing).
      const invalidKey = keyProblem(file.key);
      const meta = invalidKey === undefined ? await this.#readMeta({ bucket: options.bucket, key: file.key }) : undefined;
      yield {
        key: file.key,
        size: file.size,
        contentType: meta?.contentType,
        etag: `"${file.size.toString(16)}-${Math.floor(file.mtime.getTime()).toString(16)}"`,
        lastModified: file.mtime,
        ...(invalidKey === undefined ? {} : { invalidKey }),
      };
    }
  }

  async ping(): Promise<void> {
    await guardFs(() => access(this.#objects, constants.W_OK));
  }

  #bucket(bucket: string): LocalBucket {
    assertSafeBucket(bucket);
    const config = this.#options.buckets[bucket];
    if (config === undefined) throw new StowageError("NOT_FOUND", "No such bucket.");
    return config;
  }

  #path(ref: ObjectRef): string {
    return resolveInside(this.#objects, ref.bucket, ref.key);
  }

  #metaPath(ref: ObjectRef): string {
    return resolveInside(this.#meta, ref.bucket, ref.key, ".json");
  }

  /** Makes a complete temp file visible at its key: `link(2)` fails if the key exists. */
  async #commit(tmpPath: string, ref: ObjectRef, meta: ObjectMeta): Promise<void> {
    const finalPath = this.#path(ref);
    await mkdir(dirname(finalPath), { recursive: true });
    await link(tmpPath, finalPath).catch((error: NodeJS.ErrnoException) => {
      if (error.code === "EEXIST") throw objectExists();
      throw error;
    });
    await this.#writeMeta(ref, meta);
  }

  async #readMeta(ref: ObjectRef): Promise<ObjectMeta | undefined> {
    try {
      return JSON.parse(await readFile(this.#metaPath(ref), "utf8")) as ObjectMeta;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw error;
    }
  }

  async #writeMeta(ref: ObjectRef, meta: ObjectMeta): Promise<void> {
    const path = this.#metaPath(ref);
    const tmp = join(this.#tmp, `${randomUUID()}.json`);
    await mkdir(dirname(path), { recursive: true });
    await open(tmp, "wx").then(async (handle) => {
      try {
        await handle.writeFile(JSON.stringify(meta));
      } finally {
        await handle.close();
      }
    });
    await rename(tmp, path);
  }
}

function uploadChanged(): StowageError {
  return new StowageError("UPLOAD_CHANGED", "The object changed while it was being confirmed; confirm again.");
}

function objectExists(): StowageError {
  return new StowageError(
    "OBJECT_EXISTS",
    "An object already exists at this key; upload URLs are single-use.",
  );
}

async function unlinkIfPresent(path: string): Promise<void> {
  await unlink(path).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== "ENOENT") throw error;
  });
}

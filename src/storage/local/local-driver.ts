import { randomUUID } from "node:crypto";
import { createReadStream, createWriteStream, type ReadStream } from "node:fs";
import { access, constants, link, mkdir, open, readFile, rename, rm, stat } from "node:fs/promises";
import { dirname, join } from "node:path";
import { type Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { isStowageError, StowageError } from "../../errors.js";
import type {
  CompletedPart,
  IoOptions,
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
} from "../driver.js";
import { walkFiles } from "./list.js";
import { LocalMultipart } from "./multipart.js";
import { assertSafeBucket, resolveInside } from "./safe-path.js";
import { MAX_EXPIRY_SECONDS, type SignedScope, sign, verify } from "./signed-url.js";

export interface LocalBucket {
  /** Objects may be read without a signature (like a public bucket behind a CDN). */
  public: boolean;
  /** CDN / custom-domain base for public URLs; defaults to Stowage's own `/storage/` route. */
  publicBaseUrl?: string | undefined;
}

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

const FS_UNAVAILABLE = new Set(["EACCES", "EPERM", "ENOSPC", "EIO", "EROFS", "EDQUOT", "EMFILE"]);

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
  readonly #now: () => Date;
  readonly #multipart: LocalMultipart;

  constructor(options: LocalDriverOptions) {
    this.#options = options;
    this.#objects = join(options.root, "objects");
    this.#meta = join(options.root, "meta");
    this.#tmp = join(options.root, "tmp");
    this.#now = options.now ?? (() => new Date());
    this.#multipart = new LocalMultipart(this.#tmp);
  }

  /** Creates the directory layout; call once before serving. */
  async init(): Promise<void> {
    await guardFs(async () => {
      for (const dir of [this.#objects, this.#meta, this.#tmp])
        await mkdir(dir, { recursive: true });
    });
  }

  async presignPut(options: PresignPutOptions): Promise<PresignedRequest> {
    const expires = this.#expiry(options.expiresInSeconds);
    const scope: SignedScope = {
      method: "PUT",
      bucket: options.bucket,
      key: options.key,
      expires,
      contentType: options.contentType,
      contentLength: options.contentLength,
      cacheControl: options.cacheControl,
    };
    const query = new URLSearchParams({
      expires: String(expires),
      signature: sign(scope, this.#options.signingSecret),
    });
    return {
      url: `${this.#objectUrl(options)}?${query}`,
      method: "PUT",
      headers: {
        "Content-Type": options.contentType,
        "Content-Length": String(options.contentLength),
        "Cache-Control": options.cacheControl,
      },
      expiresAt: new Date(expires * 1000),
    };
  }

  async presignGet(options: PresignGetOptions): Promise<PresignedRequest> {
    const expires = this.#expiry(options.expiresInSeconds);
    const scope: SignedScope = { method: "GET", bucket: options.bucket, key: options.key, expires };
    if (options.contentDisposition !== undefined) scope.disposition = options.contentDisposition;
    const query = new URLSearchParams({ expires: String(expires) });
    if (options.contentDisposition !== undefined) {
      query.set("response-content-disposition", options.contentDisposition);
    }
    query.set("signature", sign(scope, this.#options.signingSecret));
    return {
      url: `${this.#objectUrl(options)}?${query}`,
      method: "GET",
      headers: {},
      expiresAt: new Date(expires * 1000),
    };
  }

  publicUrl(ref: ObjectRef): string | undefined {
    const bucket = this.#options.buckets[ref.bucket];
    if (!bucket?.public) return undefined;
    if (bucket.publicBaseUrl !== undefined) {
      return `${bucket.publicBaseUrl.replace(/\/+$/, "")}/${encodeKey(ref.key)}`;
    }
    return this.#objectUrl(ref);
  }

  /**
   * Checks an incoming request to `/storage/{bucket}/{key}` against its signature. GETs of
   * public buckets need none. Returns the `Content-Disposition` a signed GET asked for.
   */
  authorize(request: {
    method: "PUT" | "GET";
    bucket: string;
    key: string;
    query: Record<string, string | undefined>;
    contentType?: string | undefined;
    contentLength?: number | undefined;
    cacheControl?: string | undefined;
  }): { disposition: string | undefined } {
    this.#bucket(request.bucket);
    const { query } = request;
    const nowSeconds = Math.floor(this.#now().getTime() / 1000);
    const secret = this.#options.signingSecret;
    if (request.method === "GET") {
      if (query.signature === undefined && this.#options.buckets[request.bucket]?.public) {
        return { disposition: undefined };
      }
      const disposition = query["response-content-disposition"];
      const scope: Omit<SignedScope, "expires"> = {
        method: "GET",
        bucket: request.bucket,
        key: request.key,
      };
      if (disposition !== undefined) scope.disposition = disposition;
      verify(scope, query, secret, nowSeconds);
      return { disposition };
    }
    if (request.contentLength === undefined) {
      throw new StowageError("LENGTH_REQUIRED", "Content-Length is required for uploads.");
    }
    const scope: Omit<SignedScope, "expires"> = {
      method: "PUT",
      bucket: request.bucket,
      key: request.key,
      contentLength: request.contentLength,
    };
    if (query.uploadId !== undefined) {
      // A part: only its length is signed, as for S3's UploadPart.
      scope.uploadId = query.uploadId;
      scope.partNumber = Number(query.partNumber);
    } else {
      // Absent headers sign as absent, so leaving one out is a mismatch, not a wildcard.
      if (request.contentType !== undefined) scope.contentType = request.contentType;
      if (request.cacheControl !== undefined) scope.cacheControl = request.cacheControl;
    }
    verify(scope, query, secret, nowSeconds);
    return { disposition: undefined };
  }

  async stat(ref: ObjectRef & IoOptions): Promise<ObjectStat | undefined> {
    const path = this.#path(ref);
    return guardFs(async () => {
      const info = await statOrUndefined(path);
      if (info === undefined) return undefined;
      const meta = await this.#readMeta(ref);
      return {
        size: info.size,
        contentType: meta?.contentType,
        etag: `"${info.size.toString(16)}-${Math.floor(info.mtimeMs).toString(16)}"`,
        lastModified: info.mtime,
      };
    });
  }

  /** Cache-control recorded for an object at upload time. */
  async cacheControlOf(ref: ObjectRef): Promise<string | undefined> {
    return (await this.#readMeta(ref))?.cacheControl;
  }

  async readHead(options: ObjectRef & IoOptions & { length: number }): Promise<Uint8Array> {
    const path = this.#path(options);
    return guardFs(async () => {
      const handle = await open(path, "r").catch((error: NodeJS.ErrnoException) => {
        if (error.code === "ENOENT") throw new StowageError("NOT_FOUND", "No such object.");
        throw error;
      });
      try {
        const buffer = Buffer.alloc(options.length);
        const { bytesRead } = await handle.read(buffer, 0, options.length, 0);
        return buffer.subarray(0, bytesRead);
      } finally {
        await handle.close();
      }
    });
  }

  /** A read stream over `[start, end]` (inclusive), for the serving route. */
  openRead(ref: ObjectRef, range?: { start: number; end: number }): ReadStream {
    return createReadStream(this.#path(ref), range);
  }

  async put(options: PutOptions): Promise<ObjectStat> {
    const finalPath = this.#path(options);
    this.#bucket(options.bucket);
    return guardFs(async () => {
      // Early refusal saves streaming a body that could never land; link() below is the real guard.
      if ((await statOrUndefined(finalPath)) !== undefined) throw objectExists();
      const tmpPath = join(this.#tmp, randomUUID());
      try {
        let received = 0;
        const limit = options.contentLength;
        const counter = new Transform({
          transform(chunk: Buffer, _encoding, callback) {
            received += chunk.length;
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

  async presignPart(options: PresignPartOptions): Promise<PresignedRequest> {
    const expires = this.#expiry(options.expiresInSeconds);
    const scope: SignedScope = {
      method: "PUT",
      bucket: options.bucket,
      key: options.key,
      expires,
      contentLength: options.contentLength,
      uploadId: options.uploadId,
      partNumber: options.partNumber,
    };
    const query = new URLSearchParams({
      uploadId: options.uploadId,
      partNumber: String(options.partNumber),
      expires: String(expires),
      signature: sign(scope, this.#options.signingSecret),
    });
    return {
      url: `${this.#objectUrl(options)}?${query}`,
      method: "PUT",
      headers: { "Content-Length": String(options.contentLength) },
      expiresAt: new Date(expires * 1000),
    };
  }

  /** Stores one part of a multipart upload (for the serving route); returns its ETag. */
  putPart(options: ObjectRef & { uploadId: string; partNumber: number; body: Readable; contentLength: number }): Promise<string> {
    this.#path(options);
    return guardFs(() => this.#multipart.putPart(options));
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

  async abortMultipart(options: ObjectRef & { uploadId: string }): Promise<void> {
    await guardFs(() => this.#multipart.abort(options.uploadId));
  }

  async delete(ref: ObjectRef & IoOptions): Promise<void> {
    const path = this.#path(ref);
    await guardFs(async () => {
      await rm(path, { force: true });
      await rm(this.#metaPath(ref), { force: true });
    });
  }

  async* list(options: { bucket: string; prefix?: string } & IoOptions): AsyncIterable<ObjectInfo> {
    this.#bucket(options.bucket);
    const bucketDir = join(this.#objects, options.bucket);
    for await (const file of walkFiles(bucketDir, options.prefix ?? "", options.signal)) {
      const meta = await this.#readMeta({ bucket: options.bucket, key: file.key });
      yield {
        key: file.key,
        size: file.size,
        contentType: meta?.contentType,
        etag: `"${file.size.toString(16)}-${Math.floor(file.mtime.getTime()).toString(16)}"`,
        lastModified: file.mtime,
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

  #expiry(expiresInSeconds: number): number {
    const seconds = Math.min(Math.max(1, Math.floor(expiresInSeconds)), MAX_EXPIRY_SECONDS);
    return Math.floor(this.#now().getTime() / 1000) + seconds;
  }

  #objectUrl(ref: ObjectRef): string {
    const base = this.#options.baseUrl.replace(/\/+$/, "");
    return `${base}/storage/${encodeURIComponent(ref.bucket)}/${encodeKey(ref.key)}`;
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

/** Percent-encodes each key segment, keeping the slashes. */
export function encodeKey(key: string): string {
  return key.split("/").map(encodeURIComponent).join("/");
}

function objectExists(): StowageError {
  return new StowageError(
    "OBJECT_EXISTS",
    "An object already exists at this key; upload URLs are single-use.",
  );
}

async function statOrUndefined(path: string) {
  try {
    return await stat(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return undefined;
    throw error;
  }
}

function isFsUnavailable(error: unknown): boolean {
  return FS_UNAVAILABLE.has((error as NodeJS.ErrnoException | undefined)?.code ?? "");
}

/** Disk-level failures (permissions, full disk, I/O) become 503 STORAGE_UNAVAILABLE. */
async function guardFs<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (isFsUnavailable(error)) {
      throw new StowageError("STORAGE_UNAVAILABLE", "Local storage is not available.", {
        cause: error,
      });
    }
    throw error;
  }
}

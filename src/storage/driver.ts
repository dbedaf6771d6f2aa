import type { Readable } from "node:stream";

/**
 * The storage contract: everything Stowage asks of an object store. Local disk, memory and
 * S3-compatible services implement it; `test/contract/driver-contract.ts` checks any driver
 * against it. Every method takes one options object; I/O methods accept an `AbortSignal`.
 */
export interface StorageDriver {
  /** Short name for logs and errors, e.g. `local` or `s3`. */
  readonly name: string;
  /** Optional capabilities this driver offers (multipart, POST policies, …). */
  readonly capabilities: ReadonlySet<StorageCapability>;

  /**
   * A URL the client PUTs the bytes to. The signature covers the bucket, key, `Content-Type`,
   * the exact `Content-Length`, `Cache-Control`, the `Content-MD5` when given, and the expiry,
   * so the store itself refuses any other upload. The client must send exactly the returned
   * `headers`.
   */
  presignPut(options: PresignPutOptions): Promise<PresignedRequest>;
  /** A short-lived URL to download one object, optionally with a `Content-Disposition`. */
  presignGet(options: PresignGetOptions): Promise<PresignedRequest>;
  /** The unsigned public URL of an object in a public bucket (CDN or store), if it has one. */
  publicUrl(options: ObjectRef): string | undefined;
  /**
   * Every origin (`https://host[:port]`) of the URLs above: where browsers send uploads and
   * fetch downloads. A page's Content-Security-Policy must allow them (`connect-src`, `img-src`).
   */
  browserOrigins(): string[];

  /** Size, type and version tag of an object, or `undefined` when it does not exist. */
  stat(options: ObjectRef & IoOptions): Promise<ObjectStat | undefined>;
  /** An object's first bytes and its stat, from one read; `undefined` when it does not exist. */
  readHead(options: ObjectRef & IoOptions & { length: number }): Promise<ObjectHead | undefined>;
  /**
   * Streams a whole object out (the scanner, the image renderer). With `ifMatch`, only while it
   * still has that ETag: UPLOAD_CHANGED otherwise; NOT_FOUND when it does not exist.
   */
  read(options: ObjectRef & IoOptions & { ifMatch?: string | undefined }): Promise<Readable>;
  /** Streams an object into the store, server-side. Refuses to overwrite an existing key. */
  put(options: PutOptions): Promise<ObjectStat>;
  /**
   * Copies an object inside the store (server-side: its bytes never pass through Stowage) and
   * gives the copy the `contentType` and `cacheControl` passed, not the source's. With
   * `ifMatch`, only while the source still has that ETag, so what was verified is what is
   * copied (`UPLOAD_CHANGED` otherwise). Copying onto an existing copy of the same object is
   * harmless (a retried confirm). Returns the copy's stat.
   */
  copy(options: CopyOptions): Promise<ObjectStat>;
  /**
   * Replaces whatever is at a key with an empty object, so that a conditional PUT to it (a
   * handed-out upload URL, `If-None-Match: *`) fails until the key is deleted.
   */
  seal(options: ObjectRef & IoOptions): Promise<void>;
  /** Deletes an object. Deleting a missing object is not an error. */
  delete(options: ObjectRef & IoOptions): Promise<void>;
  /**
   * Deletes up to 1000 objects of one bucket in one request (S3 DeleteObjects); missing ones are
   * not an error. Optional: callers fall back to `delete` one by one.
   */
  deleteMany?(options: { bucket: string; keys: string[] } & IoOptions): Promise<void>;
  /** Every object under a prefix, in no particular order. */
  list(options: { bucket: string; prefix?: string } & IoOptions): AsyncIterable<ObjectInfo>;
  /** Checks the store can be reached (for readiness probes). */
  ping(options?: IoOptions): Promise<void>;

  /**
   * A browser form upload (capability `post-policy`): the policy pins the key, type and an
   * exact `content-length-range`, so the store refuses anything else. Not on R2. Takes no
   * `contentMd5`: Ceph RGW 16 stores a form's file whatever its Content-MD5 field says.
   */
  presignPost?(options: Omit<PresignPutOptions, "contentMd5">): Promise<PresignedRequest>;

  // Multipart uploads (capability `multipart`): large files in presigned parts.
  /** Starts a multipart upload; the object appears only at `completeMultipart`. */
  createMultipart?(options: ObjectRef & { contentType: string; cacheControl: string }): Promise<{ uploadId: string }>;
  /** A URL for one part; the signature covers its exact `Content-Length` (and `Content-MD5` when given). */
  presignPart?(options: PresignPartOptions): Promise<PresignedRequest>;
  /** Assembles the parts, in order, into the object. Refuses to replace an existing key. */
  completeMultipart?(options: ObjectRef & { uploadId: string; parts: readonly CompletedPart[] }): Promise<void>;
  /**
   * The parts the store already holds for an unfinished multipart upload, by part number (a
   * client resuming after a reload sends only the others). `UPLOAD_GONE` once it was completed
   * or aborted.
   */
  listParts?(options: ObjectRef & { uploadId: string }): Promise<StoredPart[]>;
  /** Drops an unfinished multipart upload and its parts. Aborting twice is not an error. */
  abortMultipart?(options: ObjectRef & { uploadId: string }): Promise<void>;
}

/** A part a multipart upload already holds. */
export interface StoredPart {
  partNumber: number;
  etag: string;
  size: number;
}

export interface PresignPartOptions extends ObjectRef {
  uploadId: string;
  /** 1-based, at most 10 000. */
  partNumber: number;
  contentLength: number;
  expiresInSeconds: number;
  /** The part's MD5, as {@link PresignPutOptions.contentMd5}. */
  contentMd5?: string;
}

export interface CompletedPart {
  partNumber: number;
  /** The `ETag` the store answered the part's PUT with. */
  etag: string;
}

export type StorageCapability = "multipart" | "post-policy" | "conditional-write";

export interface IoOptions {
  signal?: AbortSignal;
}

export interface ObjectRef {
  bucket: string;
  key: string;
}

export interface PresignPutOptions extends ObjectRef {
  contentType: string;
  contentLength: number;
  cacheControl: string;
  expiresInSeconds: number;
  /**
   * The body's MD5, base64 (RFC 1864 `Content-MD5`). Signed and returned in `headers`: the
   * store refuses a body with another digest (400: S3 `BadDigest`, local `BAD_DIGEST`) and a
   * request without the header (403), and stores nothing.
   *
   * @example
   * driver.presignPut({ ...ref, contentType: "text/plain", contentLength: 5, cacheControl: "no-cache",
   *   expiresInSeconds: 300, contentMd5: createHash("md5").update("hello").digest("base64") });
   */
  contentMd5?: string;
}

export interface PresignGetOptions extends ObjectRef {
  expiresInSeconds: number;
  /** Sent back as `Content-Disposition` by the store when the URL is used. */
  contentDisposition?: string;
}

export interface CopyOptions extends IoOptions {
  from: ObjectRef;
  to: ObjectRef;
  /** The source's size, as its stat gave it (large objects are copied in parts). */
  size: number;
  contentType: string;
  cacheControl: string;
  ifMatch?: string | undefined;
}

export interface PutOptions extends ObjectRef, IoOptions {
  body: Readable;
  contentType: string;
  contentLength: number;
  cacheControl?: string | undefined;
  /** The body's MD5, base64: a body with another digest is refused (`BAD_DIGEST`) and nothing is stored. */
  contentMd5?: string | undefined;
}

/** One presign result shape for every backend. */
export interface PresignedRequest {
  url: string;
  method: "PUT" | "GET" | "POST";
  /** Headers the client must send exactly as given. */
  headers: Record<string, string>;
  /** Form fields, for POST-policy uploads only. */
  fields?: Record<string, string>;
  expiresAt: Date;
}

export interface ObjectStat {
  size: number;
  contentType: string | undefined;
  etag: string;
  lastModified: Date;
}

/**
 * Up to `length` bytes from the start of an object (fewer if it is shorter) and its stat, read
 * together: the bytes are of the version the ETag names. So what confirm sniffs is what its copy,
 * made only while the source still has that ETag, promotes, even if the object is replaced
 * meanwhile (a POST form submitted again, say).
 */
export interface ObjectHead {
  stat: ObjectStat;
  bytes: Uint8Array;
}

export interface ObjectInfo extends ObjectStat {
  key: string;
  /**
   * Set by a listing that met an entry whose name is no valid key for this driver, saying why
   * (a file named with a backslash on local disk): it can be neither read nor deleted through
   * the driver, so whoever walks the listing reports it and goes on with the next.
   */
  invalidKey?: string | undefined;
}

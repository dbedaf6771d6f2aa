import { PassThrough, pipeline, Readable, Transform } from "node:stream";
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  type CopyObjectCommandInput,
  type CopyObjectCommandOutput,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  type GetObjectCommandOutput,
  HeadBucketCommand,
  HeadObjectCommand,
  ListPartsCommand,
  paginateListObjectsV2,
  PutObjectCommand,
  S3Client,
  UploadPartCopyCommand,
} from "@aws-sdk/client-s3";
import { createPresignedPost } from "@aws-sdk/s3-presigned-post";
import type { BuildMiddleware } from "@smithy/types";
import { StowageError } from "../../errors.js";
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
import { isBadDigest, isMissing, isPreconditionFailed, toStorageError } from "./errors.js";
import { escapeUri, Presigner } from "./presigner.js";

export interface S3BucketConfig {
  /** The real bucket name at the provider. */
  name: string;
  public: boolean;
  /** CDN / custom domain serving this bucket, e.g. `https://media.example.com`. */
  publicBaseUrl?: string | undefined;
}

export interface S3DriverOptions {
  /** Endpoint Stowage talks to (stat, read, delete). Absent: AWS S3 for the region. */
  endpoint?: string | undefined;
  /** Endpoint browsers resolve; presigned URLs are signed for its host. Defaults to `endpoint`. */
  publicEndpoint?: string | undefined;
  /** `auto` for Cloudflare R2. */
  region: string;
  /** Path-style (`host/bucket/key`) rather than virtual-hosted (`bucket.host/key`) URLs. */
  forcePathStyle: boolean;
  /** Static keys; absent: the AWS SDK's standard credential chain (env, profile, role). */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string } | undefined;
  /** Logical bucket names (as policies use them) → the provider's buckets. */
  buckets: Readonly<Record<string, S3BucketConfig>>;
  /** The store accepts POST policy uploads (AWS, MinIO, Ceph; not R2). */
  postPolicy: boolean;
  /** The store honours `If-None-Match: *` on PUT (AWS since 2024, R2, MinIO, Ceph 16). */
  conditionalWrites: boolean;
  /** Socket connect and whole-request timeouts, in ms. */
  connectTimeoutMs?: number;
  requestTimeoutMs?: number;
  /** Attempts for idempotent operations (HEAD, GET, DELETE, LIST), with backoff. */
  maxAttempts?: number;
  /**
   * Objects from this size up are copied in parts (UploadPartCopy): CopyObject takes at most
   * 5 GiB. Lowered only by tests, to exercise the part copy with small objects.
   */
  copyInPartsFromBytes?: number;
  /** Part size of such copies; default the larger of 512 MiB and size / 10 000. */
  copyPartBytes?: number;
}

/** CopyObject's limit: larger objects can only be copied part by part. */
const MAX_COPY_OBJECT_BYTES = 5 * 1024 ** 3;
/** A server-side copy of gigabytes takes longer than the 30 s other requests get. */
const COPY_TIMEOUT_MS = 15 * 60_000;

/**
 * Any S3-compatible store (AWS S3, Cloudflare R2, MinIO, Ceph RGW) behind the storage contract.
 * Bytes never pass through Stowage: clients PUT to presigned URLs, and confirm reads only a HEAD
 * and the first bytes.
 */
export class S3Driver implements StorageDriver {
  readonly name = "s3";
  readonly capabilities: ReadonlySet<StorageCapability>;
  readonly #options: S3DriverOptions;
  /** For idempotent calls: the SDK retries transient failures with exponential backoff. */
  readonly #client: S3Client;
  /** For calls a blind retry could duplicate or that stream a body once: one attempt. */
  readonly #once: S3Client;
  /** For server-side copies: one attempt each (a copy is retried as a whole), long timeout. */
  readonly #copier: S3Client;
  readonly #presigner: Presigner;
  readonly #publicEndpoint: URL;

  constructor(options: S3DriverOptions) {
    this.#options = options;
    const common = {
      region: options.region,
      forcePathStyle: options.forcePathStyle,
      ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
      ...(options.credentials === undefined ? {} : { credentials: options.credentials }),
      // Recent SDKs add CRC checksums by default: presigned PUTs then carry checksum
      // parameters the browser cannot satisfy, and radosgw answers a streamed PutObject with
      // 411. Only send checksums where an operation requires them.
      requestChecksumCalculation: "WHEN_REQUIRED" as const,
      responseChecksumValidation: "WHEN_REQUIRED" as const,
      requestHandler: {
        connectionTimeout: options.connectTimeoutMs ?? 3000,
        requestTimeout: options.requestTimeoutMs ?? 30_000,
      },
    };
    this.#client = new S3Client({ ...common, maxAttempts: options.maxAttempts ?? 3 });
    // No `Expect: 100-continue`: radosgw answers a refused conditional PUT (412) before the
    // body, and the SDK's handler then waits out its whole request timeout for the continue.
    this.#once = new S3Client({ ...common, maxAttempts: 1, expectContinueHeader: false });
    this.#copier = new S3Client({
      ...common,
      maxAttempts: 2,
      requestHandler: { connectionTimeout: options.connectTimeoutMs ?? 3000, requestTimeout: COPY_TIMEOUT_MS },
    });
    this.#publicEndpoint = new URL(
      options.publicEndpoint ?? options.endpoint ?? `https://s3.${options.region}.amazonaws.com`,
    );
    this.#presigner = new Presigner({
      endpoint: this.#publicEndpoint,
      region: options.region,
      forcePathStyle: options.forcePathStyle,
      credentials: this.#client.config.credentials,
      clockOffset: () => this.#client.config.systemClockOffset ?? 0,
    });
    const capabilities: StorageCapability[] = ["multipart"];
    if (options.postPolicy) capabilities.push("post-policy");
    if (options.conditionalWrites) capabilities.push("conditional-write");
    this.capabilities = new Set(capabilities);
  }

  async presignPut(options: PresignPutOptions): Promise<PresignedRequest> {
    const headers: Record<string, string> = {
      "Content-Type": options.contentType,
      "Content-Length": String(options.contentLength),
      "Cache-Control": options.cacheControl,
    };
    // A presigned PUT stays usable until it expires; signing If-None-Match makes the store
    // itself refuse a second PUT, so nobody can swap the bytes after confirm.
    if (this.#options.conditionalWrites) headers["If-None-Match"] = "*";
    // Signed like the others: the store checks the body against it (400 BadDigest, nothing
    // stored), and a PUT that leaves it out or changes it no longer matches the signature (403).
    if (options.contentMd5 !== undefined) headers["Content-MD5"] = options.contentMd5;
    const { url, expiresAt } = await this.#presigner.presign({
      method: "PUT",
      bucket: this.#bucket(options.bucket).name,
      key: options.key,
      expiresInSeconds: options.expiresInSeconds,
      headers,
    });
    return { url, method: "PUT", headers, expiresAt };
  }

  async presignPost(options: Omit<PresignPutOptions, "contentMd5">): Promise<PresignedRequest> {
    if (!this.#options.postPolicy) throw new StowageError("INVALID_REQUEST", "This store does not accept POST uploads; use PUT.");
    const bucket = this.#bucket(options.bucket).name;
    const post = await createPresignedPost(this.#once, {
      Bucket: bucket,
      Key: options.key,
      Expires: options.expiresInSeconds,
      Fields: { "Content-Type": options.contentType, "Cache-Control": options.cacheControl },
      Conditions: [
        ["content-length-range", options.contentLength, options.contentLength],
        ["eq", "$Content-Type", options.contentType],
        ["eq", "$Cache-Control", options.cacheControl],
      ],
    });
    // The policy is signed, not the request's host: the form goes to the public endpoint.
    const base = this.#publicEndpoint.pathname.replace(/\/+$/, "");
    return {
      url: this.#options.forcePathStyle
        ? `${this.#publicEndpoint.origin}${base}/${escapeUri(bucket)}`
        : `${this.#publicEndpoint.protocol}//${bucket}.${this.#publicEndpoint.host}${base}`,
      method: "POST",
      headers: {},
      fields: post.fields,
      expiresAt: new Date(Date.now() + options.expiresInSeconds * 1000),
    };
  }

  async presignGet(options: PresignGetOptions): Promise<PresignedRequest> {
    const query: Record<string, string> = {};
    if (options.contentDisposition !== undefined) query["response-content-disposition"] = options.contentDisposition;
    const { url, expiresAt } = await this.#presigner.presign({
      method: "GET",
      bucket: this.#bucket(options.bucket).name,
      key: options.key,
      expiresInSeconds: options.expiresInSeconds,
      query,
    });
    return { url, method: "GET", headers: {}, expiresAt };
  }

  publicUrl(ref: ObjectRef): string | undefined {
    const bucket = this.#bucket(ref.bucket);
    if (!bucket.public) return undefined;
    const key = ref.key.split("/").map(escapeUri).join("/");
    if (bucket.publicBaseUrl !== undefined) return `${bucket.publicBaseUrl.replace(/\/+$/, "")}/${key}`;
    const endpoint = this.#publicEndpoint;
    const base = endpoint.pathname.replace(/\/+$/, "");
    return this.#options.forcePathStyle
      ? `${endpoint.origin}${base}/${escapeUri(bucket.name)}/${key}`
      : `${endpoint.protocol}//${bucket.name}.${endpoint.host}${base}/${key}`;
  }

  /**
   * The public endpoint (path-style), or each bucket's own host on it (virtual-hosted:
   * `bucket.s3.region.amazonaws.com`), and the CDN origins of public buckets.
   */
  browserOrigins(): string[] {
    const endpoint = this.#publicEndpoint;
    const buckets = Object.values(this.#options.buckets);
    const store = this.#options.forcePathStyle
      ? [endpoint.origin]
      : buckets.map((b) => new URL(`${endpoint.protocol}//${b.name}.${endpoint.host}`).origin);
    const cdns = buckets.flatMap((b) => (b.public && b.publicBaseUrl !== undefined ? [new URL(b.publicBaseUrl).origin] : []));
    return [...new Set([...store, ...cdns])];
  }

  async stat(options: ObjectRef & IoOptions): Promise<ObjectStat | undefined> {
    try {
      const head = await this.#client.send(
        new HeadObjectCommand({ Bucket: this.#bucket(options.bucket).name, Key: options.key }),
        signalOf(options),
      );
      return {
        size: head.ContentLength ?? 0,
        contentType: head.ContentType,
        etag: head.ETag ?? "",
        lastModified: head.LastModified ?? new Date(0),
      };
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw toStorageError(error, "stat");
    }
  }

  /**
   * One ranged GET: the bytes, and the object's size from `Content-Range` (ETag, type and time
   * are the whole object's). An empty object has no byte 0 (S3 answers 416 InvalidRange): then a
   * HEAD, which must still find it empty.
   */
  async readHead(options: ObjectRef & IoOptions & { length: number }): Promise<ObjectHead | undefined> {
    let object: GetObjectCommandOutput;
    try {
      object = await this.#client.send(
        new GetObjectCommand({
          Bucket: this.#bucket(options.bucket).name,
          Key: options.key,
          // Only what sniffing needs, never the whole object.
          Range: `bytes=0-${options.length - 1}`,
        }),
        signalOf(options),
      );
    } catch (error) {
      if (isMissing(error)) return undefined;
      if ((error as { name?: string }).name !== "InvalidRange") throw toStorageError(error, "read");
      const stat = await this.stat(options);
      if (stat === undefined) return undefined;
      if (stat.size !== 0) throw new StowageError("UPLOAD_CHANGED", "The object changed while it was being read; confirm again.");
      return { stat, bytes: new Uint8Array() };
    }
    // A ranged answer names the object's size in `Content-Range`; a store that ignored the range
    // answers the whole object (200, no `Content-Range`), whose length is the size.
    const range = object.ContentRange;
    const total = range === undefined ? undefined : /^bytes \d+-\d+\/(\d+)$/.exec(range)?.[1];
    const body = object.Body as Readable | undefined;
    if (range !== undefined && total === undefined) {
      body?.destroy();
      throw new StowageError("STORAGE_UNAVAILABLE", `The object store answered a range without the object's size (Content-Range: ${range}).`);
    }
    let bytes: Uint8Array;
    try {
      // A ranged answer is read to its end, so its connection goes back to the pool; of a whole
      // object only the first `length` bytes are read, and the rest dropped with its connection.
      if (object.Body === undefined || body === undefined) bytes = new Uint8Array();
      else bytes = range === undefined ? await firstBytes(body, options.length) : await object.Body.transformToByteArray();
    } catch (error) {
      throw toStorageError(error, "read");
    }
    return {
      stat: {
        size: total === undefined ? (object.ContentLength ?? bytes.length) : Number(total),
        contentType: object.ContentType,
        etag: object.ETag ?? "",
        lastModified: object.LastModified ?? new Date(0),
      },
      bytes,
    };
  }

  async read(options: ObjectRef & IoOptions & { ifMatch?: string | undefined }): Promise<Readable> {
    try {
      const object = await this.#client.send(
        new GetObjectCommand({
          Bucket: this.#bucket(options.bucket).name,
          Key: options.key,
          ...(options.ifMatch === undefined ? {} : { IfMatch: options.ifMatch }),
        }),
        signalOf(options),
      );
      // In Node the SDK's body is the response stream itself (an IncomingMessage).
      return (object.Body as Readable | undefined) ?? Readable.from([]);
    } catch (error) {
      if (isPreconditionFailed(error)) throw new StowageError("UPLOAD_CHANGED", "The object changed since it was verified.");
      if (isMissing(error)) throw new StowageError("NOT_FOUND", "No such object.");
      throw toStorageError(error, "read");
    }
  }

  async put(options: PutOptions): Promise<ObjectStat> {
    // The SDK does not give up on a request whose body stream failed: it waited out its 30 s
    // request timeout (twice) on a short body. A body error aborts the request at once instead.
    const bodyFailed = new AbortController();
    const body = exactLength(options.body, options.contentLength, (error) => bodyFailed.abort(error));
    const signal = options.signal === undefined ? bodyFailed.signal : AbortSignal.any([options.signal, bodyFailed.signal]);
    try {
      await this.#once.send(
        new PutObjectCommand({
          Bucket: this.#bucket(options.bucket).name,
          Key: options.key,
          Body: body,
          ContentLength: options.contentLength,
          ContentType: options.contentType,
          ...(options.cacheControl === undefined ? {} : { CacheControl: options.cacheControl }),
          ...(options.contentMd5 === undefined ? {} : { ContentMD5: options.contentMd5 }),
          ...(this.#options.conditionalWrites ? { IfNoneMatch: "*" } : {}),
        }),
        { abortSignal: signal },
      );
    } catch (error) {
      if (isPreconditionFailed(error)) {
        throw new StowageError("OBJECT_EXISTS", "An object already exists at this key.");
      }
      if (options.contentMd5 !== undefined && isBadDigest(error)) throw badDigest(options.contentMd5);
      if (body.lengthError !== undefined) throw body.lengthError;
      throw toStorageError(error, "write");
    }
    if (body.lengthError !== undefined) throw body.lengthError;
    const stat = await this.stat(options);
    if (stat === undefined) throw new StowageError("STORAGE_UNAVAILABLE", "The object vanished right after it was written.");
    return stat;
  }

  async copy(options: CopyOptions): Promise<ObjectStat> {
    const source = { Bucket: this.#bucket(options.from.bucket).name, Key: options.from.key };
    const target = { Bucket: this.#bucket(options.to.bucket).name, Key: options.to.key };
    const copySource = `${source.Bucket}/${options.from.key.split("/").map(escapeUri).join("/")}`;
    const ifMatch = options.ifMatch === undefined ? {} : { CopySourceIfMatch: options.ifMatch };
    try {
      if (options.size >= (this.#options.copyInPartsFromBytes ?? MAX_COPY_OBJECT_BYTES)) {
        await this.#copyInParts(options, target, copySource);
      } else {
        // REPLACE: the copy's type and cache-control are the server's verdict, not the uploader's.
        const command = new CopyObjectCommand({
          ...target,
          CopySource: copySource,
          MetadataDirective: "REPLACE",
          ContentType: options.contentType,
          CacheControl: options.cacheControl,
          ...ifMatch,
        });
        const copied = await this.#copier.send(withCephCopyIfMatch(command, options.ifMatch), signalOf(options));
        // Checked against the source's ETag, the copy holds exactly the `size` bytes verified,
        // and CopyObject answers its ETag and time: no HEAD of the copy (a round trip of confirm).
        const { ETag: etag, LastModified: lastModified } = copied.CopyObjectResult ?? {};
        if (options.ifMatch !== undefined && etag !== undefined && lastModified !== undefined) {
          // RGW answers it bare; HEAD (and AWS's CopyObject) quote it, and the quoted form is recorded.
          return { size: options.size, contentType: options.contentType, etag: etag.startsWith("\"") ? etag : `"${etag}"`, lastModified };
        }
      }
    } catch (error) {
      if (isPreconditionFailed(error)) throw new StowageError("UPLOAD_CHANGED", "The object changed while it was being confirmed; confirm again.");
      if (isMissing(error)) throw new StowageError("NOT_FOUND", "No such object.");
      throw toStorageError(error, "copy");
    }
    const stat = await this.stat(options.to);
    if (stat === undefined) throw new StowageError("STORAGE_UNAVAILABLE", "The copy vanished right after it was made.");
    return stat;
  }

  /**
   * Above CopyObject's 5 GiB: a multipart upload on the target whose parts are ranges of the
   * source (UploadPartCopy), each checked against the source's ETag, four at a time.
   */
  async #copyInParts(options: CopyOptions, target: { Bucket: string; Key: string }, copySource: string): Promise<void> {
    // RGW enforces no precondition on UploadPartCopy (measured, with either header): the source's
    // ETag is checked before the first part and after the last, and a change fails the copy.
    const unchanged = async () => {
      if (options.ifMatch !== undefined && (await this.stat(options.from))?.etag !== options.ifMatch) {
        throw new StowageError("UPLOAD_CHANGED", "The object changed while it was being confirmed; confirm again.");
      }
    };
    await unchanged();
    const partSize = this.#options.copyPartBytes ?? Math.max(512 * 1024 ** 2, Math.ceil(options.size / 10_000));
    const created = await this.#once.send(
      new CreateMultipartUploadCommand({ ...target, ContentType: options.contentType, CacheControl: options.cacheControl }),
      signalOf(options),
    );
    const uploadId = created.UploadId;
    if (uploadId === undefined) throw new Error("CreateMultipartUpload answered no UploadId");
    try {
      const count = Math.max(1, Math.ceil(options.size / partSize));
      const parts: { PartNumber: number; ETag: string }[] = new Array(count);
      let next = 0;
      const worker = async () => {
        while (next < count) {
          const index = next++;
          const start = index * partSize;
          const end = Math.min(options.size, start + partSize) - 1;
          const command = new UploadPartCopyCommand({
            ...target,
            UploadId: uploadId,
            PartNumber: index + 1,
            CopySource: copySource,
            CopySourceRange: `bytes=${start}-${end}`,
            ...(options.ifMatch === undefined ? {} : { CopySourceIfMatch: options.ifMatch }),
          });
          const answer = await this.#copier.send(command, signalOf(options));
          parts[index] = { PartNumber: index + 1, ETag: answer.CopyPartResult?.ETag ?? "" };
        }
      };
      await Promise.all(Array.from({ length: Math.min(4, count) }, worker));
      await unchanged();
      const complete = new CompleteMultipartUploadCommand({ ...target, UploadId: uploadId, MultipartUpload: { Parts: parts } });
      await this.#once.send(complete, signalOf(options));
    } catch (error) {
      await this.#client.send(new AbortMultipartUploadCommand({ ...target, UploadId: uploadId })).catch(() => undefined);
      throw error;
    }
  }

  async seal(options: ObjectRef & IoOptions): Promise<void> {
    try {
      // Unconditional: this replaces whatever a client put there with nothing.
      await this.#once.send(
        new PutObjectCommand({
          Bucket: this.#bucket(options.bucket).name,
          Key: options.key,
          Body: new Uint8Array(),
          ContentLength: 0,
          ContentType: "application/octet-stream",
        }),
        signalOf(options),
      );
    } catch (error) {
      throw toStorageError(error, "seal an upload URL");
    }
  }

  async delete(options: ObjectRef & IoOptions): Promise<void> {
    try {
      await this.#client.send(
        new DeleteObjectCommand({ Bucket: this.#bucket(options.bucket).name, Key: options.key }),
        signalOf(options),
      );
    } catch (error) {
      if (isMissing(error)) return;
      throw toStorageError(error, "delete");
    }
  }

  async deleteMany(options: { bucket: string; keys: string[] } & IoOptions): Promise<void> {
    if (options.keys.length === 0) return;
    if (options.keys.length > 1000) throw new Error("DeleteObjects takes at most 1000 keys");
    // Quiet: the answer lists only the keys that failed. Missing keys count as deleted.
    const answer = await this.#client
      .send(
        new DeleteObjectsCommand({
          Bucket: this.#bucket(options.bucket).name,
          Delete: { Objects: options.keys.map((Key) => ({ Key })), Quiet: true },
        }),
        signalOf(options),
      )
      .catch((error: unknown) => {
        throw toStorageError(error, "delete");
      });
    // A 200 can still carry per-key failures (AccessDenied, SlowDown): the batch did not succeed.
    const failed = answer.Errors ?? [];
    if (failed.length > 0) {
      const first = failed[0];
      throw new StowageError("STORAGE_UNAVAILABLE", `Could not delete ${failed.length} of ${options.keys.length} objects (${first?.Code ?? "error"}: ${first?.Message ?? ""}).`, {
        details: { failed: failed.map((e) => ({ key: e.Key, code: e.Code })) },
      });
    }
  }

  async* list(options: { bucket: string; prefix?: string } & IoOptions): AsyncIterable<ObjectInfo> {
    const pages = paginateListObjectsV2(
      { client: this.#client, pageSize: 1000 },
      { Bucket: this.#bucket(options.bucket).name, ...(options.prefix === undefined ? {} : { Prefix: options.prefix }) },
    );
    try {
      for await (const page of pages) {
        options.signal?.throwIfAborted();
        for (const object of page.Contents ?? []) {
          if (object.Key === undefined) continue;
          yield {
            key: object.Key,
            size: object.Size ?? 0,
            contentType: undefined,
            etag: object.ETag ?? "",
            lastModified: object.LastModified ?? new Date(0),
          };
        }
      }
    } catch (error) {
      if (options.signal?.aborted) throw error;
      throw toStorageError(error, "list");
    }
  }

  async ping(options: IoOptions = {}): Promise<void> {
    const first = Object.values(this.#options.buckets)[0];
    if (first === undefined) return;
    try {
      await this.#client.send(new HeadBucketCommand({ Bucket: first.name }), signalOf(options));
    } catch (error) {
      throw toStorageError(error, "reach");
    }
  }

  async createMultipart(options: ObjectRef & { contentType: string; cacheControl: string }): Promise<{ uploadId: string }> {
    try {
      const created = await this.#once.send(
        new CreateMultipartUploadCommand({
          Bucket: this.#bucket(options.bucket).name,
          Key: options.key,
          ContentType: options.contentType,
          CacheControl: options.cacheControl,
        }),
      );
      if (created.UploadId === undefined) throw new Error("CreateMultipartUpload answered no UploadId");
      return { uploadId: created.UploadId };
    } catch (error) {
      throw toStorageError(error, "start a multipart upload");
    }
  }

  async presignPart(options: PresignPartOptions): Promise<PresignedRequest> {
    // UploadPart checks Content-MD5 as PutObject does (measured on RGW: 400 BadDigest).
    const headers: Record<string, string> = { "Content-Length": String(options.contentLength) };
    if (options.contentMd5 !== undefined) headers["Content-MD5"] = options.contentMd5;
    const { url, expiresAt } = await this.#presigner.presign({
      method: "PUT",
      bucket: this.#bucket(options.bucket).name,
      key: options.key,
      expiresInSeconds: options.expiresInSeconds,
      headers,
      query: { partNumber: String(options.partNumber), uploadId: options.uploadId },
    });
    return { url, method: "PUT", headers, expiresAt };
  }

  async completeMultipart(options: ObjectRef & { uploadId: string; parts: readonly CompletedPart[] }): Promise<void> {
    try {
      // radosgw 16 answers an empty <ETag> here; nothing relies on it (confirm HEADs the object).
      await this.#once.send(
        new CompleteMultipartUploadCommand({
          Bucket: this.#bucket(options.bucket).name,
          Key: options.key,
          UploadId: options.uploadId,
          MultipartUpload: { Parts: options.parts.map((p) => ({ PartNumber: p.partNumber, ETag: p.etag })) },
        }),
      );
    } catch (error) {
      const name = (error as { name?: string }).name;
      if (name === "InvalidPart" || name === "InvalidPartOrder" || name === "EntityTooSmall") {
        throw new StowageError("INVALID_REQUEST", `The store refused the parts: ${(error as Error).message}`, { cause: error });
      }
      if (name === "NoSuchUpload") throw new StowageError("UPLOAD_GONE", "This multipart upload no longer exists.", { cause: error });
      throw toStorageError(error, "complete the multipart upload");
    }
  }

  async listParts(options: ObjectRef & { uploadId: string }): Promise<StoredPart[]> {
    const parts: StoredPart[] = [];
    let marker: string | undefined;
    try {
      // A page holds at most 1,000 parts; an upload may have 10,000.
      for (;;) {
        const page = await this.#client.send(
          new ListPartsCommand({
            Bucket: this.#bucket(options.bucket).name,
            Key: options.key,
            UploadId: options.uploadId,
            PartNumberMarker: marker,
          }),
        );
        for (const part of page.Parts ?? []) {
          if (part.PartNumber === undefined || part.ETag === undefined) continue;
          parts.push({ partNumber: part.PartNumber, etag: part.ETag, size: part.Size ?? 0 });
        }
        if (page.IsTruncated !== true || page.NextPartNumberMarker === undefined) return parts;
        marker = page.NextPartNumberMarker;
      }
    } catch (error) {
      if ((error as { name?: string }).name === "NoSuchUpload") throw new StowageError("UPLOAD_GONE", "This multipart upload no longer exists.", { cause: error });
      throw toStorageError(error, "list the parts of the multipart upload");
    }
  }

  async abortMultipart(options: ObjectRef & { uploadId: string }): Promise<void> {
    try {
      await this.#client.send(
        new AbortMultipartUploadCommand({ Bucket: this.#bucket(options.bucket).name, Key: options.key, UploadId: options.uploadId }),
      );
    } catch (error) {
      if ((error as { name?: string }).name === "NoSuchUpload" || isMissing(error)) return;
      throw toStorageError(error, "abort the multipart upload");
    }
  }

  /** The provider's bucket names, each once (several logical buckets may share one). */
  bucketNames(): string[] {
    return [...new Set(Object.values(this.#options.buckets).map((b) => b.name))];
  }

  /** The SDK client, for the `storage` CLI commands (CORS, init, lifecycle). */
  get client(): S3Client {
    return this.#client;
  }

  #bucket(logical: string): S3BucketConfig {
    const bucket = this.#options.buckets[logical];
    if (bucket === undefined) throw new StowageError("NOT_FOUND", "No such bucket.");
    return bucket;
  }
}

/**
 * Ceph RGW (16.2 here) reads the copy precondition from `x-amz-copy-if-match` and ignores the
 * standard `x-amz-copy-source-if-match` the SDK sends: measured, a copy with a stale ETag went
 * through. Both are sent (added before signing, so the extra one is signed); other stores
 * ignore the header they do not know.
 */
function withCephCopyIfMatch(command: CopyObjectCommand, ifMatch: string | undefined): CopyObjectCommand {
  if (ifMatch === undefined) return command;
  const addHeader: BuildMiddleware<CopyObjectCommandInput, CopyObjectCommandOutput> = (next) => async (args) => {
    const request = args.request as { headers?: Record<string, string> };
    if (request.headers !== undefined) request.headers["x-amz-copy-if-match"] = ifMatch;
    return next(args);
  };
  command.middlewareStack.add(addHeader, { step: "build", name: "cephCopyIfMatch" });
  return command;
}

function signalOf(options: IoOptions): { abortSignal?: AbortSignal } {
  return options.signal === undefined ? {} : { abortSignal: options.signal };
}

/**
 * Passes the body through, failing the upload (before its last byte is sent) if it is not
 * exactly `length` bytes, so a short stream never becomes a short object or a hung request.
 */
function exactLength(body: Readable, length: number, onError: (error: Error) => void): PassThrough & { lengthError?: StowageError } {
  let seen = 0;
  const checker = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      seen += chunk.length;
      if (seen > length) {
        out.lengthError = new StowageError("BODY_TOO_LARGE", "The body is longer than its declared length.");
        callback(out.lengthError);
      } else callback(null, chunk);
    },
    flush(callback) {
      if (seen !== length) {
        out.lengthError = new StowageError("INCOMPLETE_BODY", `Received ${seen} of ${length} bytes.`);
        callback(out.lengthError);
      } else callback();
    },
  });
  const out: PassThrough & { lengthError?: StowageError } = new PassThrough();
  // pipeline() owns the error handling of all three; the caller aborts the request on failure.
  pipeline(body, checker, out, (error) => {
    if (error) onError(error);
  });
  return out;
}

/** Up to `length` bytes from the start of `body`; the rest, if any, is not read (the stream is destroyed). */
async function firstBytes(body: Readable, length: number): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  let read = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    chunks.push(chunk);
    read += chunk.length;
    if (read >= length) break;
  }
  return Buffer.concat(chunks).subarray(0, length);
}

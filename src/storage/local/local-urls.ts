import { CONTENT_MD5_PATTERN } from "../../api/primitives.js";
import { isStowageError, StowageError } from "../../errors.js";
import type { ObjectRef, PresignedRequest, PresignGetOptions, PresignPartOptions, PresignPutOptions } from "../driver.js";
import { MAX_EXPIRY_SECONDS, type SignedScope, sign, verify } from "./signed-url.js";

const CONTENT_MD5 = new RegExp(CONTENT_MD5_PATTERN);

export interface LocalBucket {
  /** Objects may be read without a signature (like a public bucket behind a CDN). */
  public: boolean;
  /** CDN / custom-domain base for public URLs; defaults to Stowage's own `/storage/` route. */
  publicBaseUrl?: string | undefined;
}

export interface LocalUrlOptions {
  /** The externally reachable base URL of this Stowage instance, e.g. `http://127.0.0.1:8080`. */
  baseUrl: string;
  /** HMAC secret for upload and download URLs. */
  signingSecret: string;
  buckets: Readonly<Record<string, LocalBucket>>;
  now: () => Date;
}

/** An incoming request to `/storage/{bucket}/{key}`, as far as its signature is concerned. */
export interface ObjectRequest {
  method: "PUT" | "GET";
  bucket: string;
  key: string;
  query: Record<string, string | undefined>;
  contentType?: string | undefined;
  contentLength?: number | undefined;
  cacheControl?: string | undefined;
  contentMd5?: string | undefined;
}

/** What a checked request may do: a GET's `Content-Disposition`, the MD5 a PUT's body must have. */
export interface Authorized {
  disposition: string | undefined;
  contentMd5: string | undefined;
}

/**
 * The URLs of the local object endpoint: signing them (uploads, parts, downloads) and checking
 * requests against them. Kept apart from the disk I/O so each reads on its own.
 */
export class LocalUrls {
  readonly #o: LocalUrlOptions;

  constructor(options: LocalUrlOptions) {
    this.#o = options;
  }

  presignPut(options: PresignPutOptions): PresignedRequest {
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
    const headers: Record<string, string> = {
      "Content-Type": options.contentType,
      "Content-Length": String(options.contentLength),
      "Cache-Control": options.cacheControl,
    };
    if (options.contentMd5 !== undefined) {
      scope.contentMd5 = options.contentMd5;
      headers["Content-MD5"] = options.contentMd5;
    }
    return { url: this.#signedUrl(options, scope, {}), method: "PUT", headers, expiresAt: new Date(expires * 1000) };
  }

  presignPart(options: PresignPartOptions): PresignedRequest {
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
    const headers: Record<string, string> = { "Content-Length": String(options.contentLength) };
    if (options.contentMd5 !== undefined) {
      scope.contentMd5 = options.contentMd5;
      headers["Content-MD5"] = options.contentMd5;
    }
    return {
      url: this.#signedUrl(options, scope, { uploadId: options.uploadId, partNumber: String(options.partNumber) }),
      method: "PUT",
      headers,
      expiresAt: new Date(expires * 1000),
    };
  }

  presignGet(options: PresignGetOptions): PresignedRequest {
    const expires = this.#expiry(options.expiresInSeconds);
    const scope: SignedScope = { method: "GET", bucket: options.bucket, key: options.key, expires };
    const extra: Record<string, string> = {};
    if (options.contentDisposition !== undefined) {
      scope.disposition = options.contentDisposition;
      extra["response-content-disposition"] = options.contentDisposition;
    }
    return { url: this.#signedUrl(options, scope, extra), method: "GET", headers: {}, expiresAt: new Date(expires * 1000) };
  }

  /** This instance's own origin (every signed URL), and the CDN origins of public buckets. */
  origins(): string[] {
    const cdns = Object.values(this.#o.buckets).flatMap((b) => (b.public && b.publicBaseUrl !== undefined ? [b.publicBaseUrl] : []));
    return [...new Set([this.#o.baseUrl, ...cdns].map((url) => new URL(url).origin))];
  }

  publicUrl(ref: ObjectRef): string | undefined {
    const bucket = this.#o.buckets[ref.bucket];
    if (!bucket?.public) return undefined;
    if (bucket.publicBaseUrl !== undefined) return `${bucket.publicBaseUrl.replace(/\/+$/, "")}/${encodeKey(ref.key)}`;
    return this.#objectUrl(ref);
  }

  /**
   * Checks a request against its signature: GETs of public buckets need none; PUTs are checked
   * with the type, length, cache-control and MD5 they actually carry (a part: its length and
   * MD5). Returns the `Content-Disposition` a signed GET asked for, and the MD5 a PUT's body
   * must have.
   */
  authorize(request: ObjectRequest): Authorized {
    const { query } = request;
    const nowSeconds = Math.floor(this.#o.now().getTime() / 1000);
    const secret = this.#o.signingSecret;
    if (request.method === "GET") {
      const unsigned = { disposition: undefined, contentMd5: undefined };
      if (query.signature === undefined && this.#o.buckets[request.bucket]?.public) return unsigned;
      const disposition = query["response-content-disposition"];
      const scope: Omit<SignedScope, "expires"> = { method: "GET", bucket: request.bucket, key: request.key };
      if (disposition !== undefined) scope.disposition = disposition;
      verify(scope, query, secret, nowSeconds);
      return { disposition, contentMd5: undefined };
    }
    const scope: Omit<SignedScope, "expires"> = {
      method: "PUT",
      bucket: request.bucket,
      key: request.key,
      ...(request.contentLength === undefined ? {} : { contentLength: request.contentLength }),
    };
    if (query.uploadId !== undefined) {
      // A part: only its length (and an MD5) is signed, as for S3's UploadPart.
      scope.uploadId = query.uploadId;
      scope.partNumber = Number(query.partNumber);
    } else {
      // Absent headers sign as absent, so leaving one out is a mismatch, not a wildcard.
      if (request.contentType !== undefined) scope.contentType = request.contentType;
      if (request.cacheControl !== undefined) scope.cacheControl = request.cacheControl;
    }
    const { contentMd5 } = request;
    if (contentMd5 === undefined) {
      verify(scope, query, secret, nowSeconds);
      return { disposition: undefined, contentMd5: undefined };
    }
    try {
      verify({ ...scope, contentMd5 }, query, secret, nowSeconds);
    } catch (error) {
      // A Content-MD5 the URL did not sign is checked all the same, as S3 does (measured on
      // RGW): a client may add one on its own. One the URL did sign cannot be dropped or
      // changed: neither scope then matches.
      if (!isStowageError(error) || error.code !== "SIGNATURE_MISMATCH") throw error;
      verify(scope, query, secret, nowSeconds);
    }
    if (!CONTENT_MD5.test(contentMd5)) {
      throw new StowageError("INVALID_REQUEST", "Content-MD5 must be the base64 of the body's 16-byte MD5 (24 characters ending in ==).", {
        details: { field: "headers.content-md5" },
      });
    }
    return { disposition: undefined, contentMd5 };
  }

  #signedUrl(ref: ObjectRef, scope: SignedScope, extra: Record<string, string>): string {
    const query = new URLSearchParams({ ...extra, expires: String(scope.expires) });
    query.set("signature", sign(scope, this.#o.signingSecret));
    return `${this.#objectUrl(ref)}?${query}`;
  }

  #expiry(expiresInSeconds: number): number {
    const seconds = Math.min(Math.max(1, Math.floor(expiresInSeconds)), MAX_EXPIRY_SECONDS);
    return Math.floor(this.#o.now().getTime() / 1000) + seconds;
  }

  #objectUrl(ref: ObjectRef): string {
    const base = this.#o.baseUrl.replace(/\/+$/, "");
    return `${base}/storage/${encodeURIComponent(ref.bucket)}/${encodeKey(ref.key)}`;
  }
}

/** Percent-encodes each key segment, keeping the slashes. */
export function encodeKey(key: string): string {
  return key.split("/").map(encodeURIComponent).join("/");
}

import { createHmac, timingSafeEqual } from "node:crypto";
import { StowageError } from "../../errors.js";

/**
 * HMAC-signed URLs for the local driver: the same contract as an S3 presigned URL with signed
 * `Content-Type`/`Content-Length`. The URL carries only the expiry and the signature; the
 * signed headers are taken from the request itself, so a client that sends another type or
 * length gets 403, exactly as from S3.
 */
export interface SignedScope {
  method: "PUT" | "GET";
  bucket: string;
  key: string;
  /** Unix seconds. */
  expires: number;
  /** PUT only: the exact `Content-Type`, `Content-Length` and `Cache-Control` to accept. */
  contentType?: string;
  contentLength?: number;
  cacheControl?: string;
  /** GET only: the `Content-Disposition` to answer with. */
  disposition?: string;
  /** Multipart part uploads: which upload and part the URL is for. */
  uploadId?: string;
  partNumber?: number;
  /** PUT (object or part), when signed: the exact `Content-MD5` the request must carry. */
  contentMd5?: string;
}

/** Longest lifetime a URL may be signed for (S3 allows 7 days too). */
export const MAX_EXPIRY_SECONDS = 7 * 24 * 3600;

function canonical(scope: SignedScope): string {
  // JSON of a fixed-order array: unambiguous whatever characters the fields hold.
  return JSON.stringify([
    "stowage-v1",
    scope.method,
    scope.bucket,
    scope.key,
    scope.expires,
    scope.contentType ?? null,
    scope.contentLength ?? null,
    scope.cacheControl ?? null,
    scope.disposition ?? null,
    scope.uploadId ?? null,
    scope.partNumber ?? null,
    // Appended only when signed (a longer array: still unambiguous), so URLs without an MD5
    // keep the signature they had before it existed: none handed out before an upgrade breaks.
    ...(scope.contentMd5 === undefined ? [] : [scope.contentMd5]),
  ]);
}

export function sign(scope: SignedScope, secret: string): string {
  return createHmac("sha256", secret).update(canonical(scope)).digest("base64url");
}

/**
 * Verifies a signed request as a whole: signature, method, bucket, key, expiry, and for PUT
 * the type, length, cache-control and MD5 the client actually sent. Throws the error S3 would give.
 */
export function verify(
  scope: Omit<SignedScope, "expires">,
  query: { expires?: string | undefined; signature?: string | undefined },
  secret: string,
  nowSeconds: number,
): void {
  const { expires, signature } = query;
  if (expires === undefined || signature === undefined || !/^\d{1,12}$/.test(expires)) {
    throw new StowageError("SIGNATURE_MISMATCH", "This URL is not signed.");
  }
  const expected = Buffer.from(sign({ ...scope, expires: Number(expires) }, secret));
  const given = Buffer.from(signature);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw new StowageError(
      "SIGNATURE_MISMATCH",
      "The request does not match its signature (URL, Content-Type, Content-Length, Cache-Control or Content-MD5 differ).",
    );
  }
  // Checked after the signature so an attacker learns nothing from a forged expiry.
  if (Number(expires) < nowSeconds) {
    throw new StowageError("URL_EXPIRED", "This URL has expired.");
  }
}

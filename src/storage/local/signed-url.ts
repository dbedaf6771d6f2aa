import { checkScope, signScope } from "../../auth/signed-scope.js";
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

function fieldsOf(scope: SignedScope): unknown[] {
  return [
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
  ];
}

export function sign(scope: SignedScope, secret: string): string {
  return signScope(fieldsOf(scope), secret);
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
  // The signature first, the expiry after it: an attacker learns nothing from a forged expiry.
  const check = checkScope(signature, sign({ ...scope, expires: Number(expires) }, secret), Number(expires), nowSeconds);
  if (check === "mismatch") {
    throw new StowageError(
      "SIGNATURE_MISMATCH",
      "The request does not match its signature (URL, Content-Type, Content-Length, Cache-Control or Content-MD5 differ).",
    );
  }
  if (check === "expired") {
    throw new StowageError("URL_EXPIRED", "This URL has expired.");
  }
}

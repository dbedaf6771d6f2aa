import { type CORSRule, GetBucketCorsCommand, PutBucketCorsCommand, type S3Client } from "@aws-sdk/client-s3";
import type { IoOptions } from "../driver.js";

/**
 * Request headers a browser may send to the bucket. A presigned PUT carries exactly the headers
 * Stowage signed (`PresignedRequest.headers`), and every header outside the CORS safelist makes
 * the browser ask first (preflight); the bucket must allow each one by name or the upload never
 * starts:
 * - `content-type`: signed, so the upload must send it; a type such as `image/png` is not
 *   safelisted.
 * - `content-length`: signed too. Browsers set it themselves and never ask, but clients that
 *   pass `headers` through unchanged name it, and allowing it costs nothing.
 * - `cache-control`: signed into every PUT so the stored object serves with the policy's caching.
 * - `if-none-match`: signed (`If-None-Match: *`) where the store honours conditional writes, so a
 *   URL cannot be used to replace the bytes after confirm.
 * - `content-md5`: signed when the client gave the body's MD5 at presign (`contentMd5`,
 *   `contentMd5s`), so the store refuses corrupted bytes.
 * - `x-amz-*`: S3 client libraries in the browser (multipart part uploads, checksums,
 *   `x-amz-date`/`x-amz-security-token` with temporary credentials) add these.
 */
export const CORS_ALLOWED_HEADERS = ["content-type", "content-length", "cache-control", "if-none-match", "content-md5", "x-amz-*"];

/**
 * Response headers scripts may read. Browsers hide all but a few; a multipart upload must read
 * each part's `ETag` to list it in CompleteMultipartUpload.
 */
export const CORS_EXPOSE_HEADERS = ["ETag"];

/**
 * PUT for presigned uploads and parts, POST for POST-policy uploads and completing multipart
 * uploads, GET/HEAD for downloads and previews fetched by scripts.
 */
export const CORS_ALLOWED_METHODS = ["PUT", "POST", "GET", "HEAD"];

/** An hour: one preflight per origin and URL shape instead of one per upload (Chrome caps it at 2 h). */
export const CORS_MAX_AGE_SECONDS = 3600;

/** The CORS rules that let browsers on `origins` upload to and read from a bucket. */
export function corsRules(origins: readonly string[]): CORSRule[] {
  return [
    {
      AllowedOrigins: [...new Set(origins)],
      AllowedMethods: [...CORS_ALLOWED_METHODS],
      AllowedHeaders: [...CORS_ALLOWED_HEADERS],
      ExposeHeaders: [...CORS_EXPOSE_HEADERS],
      MaxAgeSeconds: CORS_MAX_AGE_SECONDS,
    },
  ];
}

/** Replaces a bucket's CORS configuration with `rules`. */
export async function applyCors(client: S3Client, bucket: string, rules: CORSRule[], options: IoOptions = {}): Promise<void> {
  await client.send(
    new PutBucketCorsCommand({ Bucket: bucket, CORSConfiguration: { CORSRules: rules } }),
    options.signal === undefined ? {} : { abortSignal: options.signal },
  );
}

/** A bucket's CORS rules as the store reports them; empty when it has none. */
export async function readCors(client: S3Client, bucket: string, options: IoOptions = {}): Promise<CORSRule[]> {
  try {
    const answer = await client.send(
      new GetBucketCorsCommand({ Bucket: bucket }),
      options.signal === undefined ? {} : { abortSignal: options.signal },
    );
    return answer.CORSRules ?? [];
  } catch (error) {
    if ((error as { name?: string }).name === "NoSuchCORSConfiguration") return [];
    throw error;
  }
}

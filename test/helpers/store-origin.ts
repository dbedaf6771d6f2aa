// What a browser test sets up on the store itself before a page on `origin` uploads to it, as an
// operator would: on the embedded default nothing (the server answers its own storage routes'
// CORS from STOWAGE_CORS_ORIGINS, or the page is on its origin); on S3 (Ceph RGW), the real
// `stowage storage cors` CLI, and a bucket policy for what is served straight from the bucket.
import assert from "node:assert/strict";
import { PutBucketPolicyCommand } from "@aws-sdk/client-s3";
import { runStowage } from "./cli.js";
import { adminClient, s3Env, stowageS3Env } from "./s3.js";
import type { SweepBackend } from "./sweep.js";

/**
 * Lets a page on `origin` PUT to the backend's buckets and read ETags (`stowage storage cors
 * --origin`), and makes the media bucket's `publicPrefixes` (say `avatars/`) readable by anyone:
 * public owner types are served from the bucket's own URL here, with no CDN in front.
 */
export async function openStoreTo(
  backend: SweepBackend,
  origin: string,
  options: { publicPrefixes?: readonly string[] } = {},
): Promise<void> {
  if (backend.s3 === undefined) return;
  const cors = await runStowage(["storage", "cors", "--origin", origin], {
    ...stowageS3Env(backend.s3.media, backend.s3.compliance),
    STOWAGE_DATA_DIR: backend.server.dataDir,
    LOG_LEVEL: "warn",
  });
  assert.equal(cors.code, 0, cors.stderr);
  const prefixes = options.publicPrefixes ?? [];
  if (prefixes.length === 0) return;
  const policy = {
    Version: "2012-10-17",
    Statement: [{ Effect: "Allow", Principal: "*", Action: "s3:GetObject", Resource: prefixes.map((p) => `arn:aws:s3:::${backend.s3?.media}/${p}*`) }],
  };
  const admin = adminClient();
  try {
    await admin.send(new PutBucketPolicyCommand({ Bucket: backend.s3.media, Policy: JSON.stringify(policy) }));
  } finally {
    admin.destroy();
  }
}

/** A glob (Playwright's `route`) for the URLs the page PUTs file bytes to on this backend's media bucket. */
export function storageUrls(backend: SweepBackend): string {
  return backend.s3 === undefined ? `${backend.server.baseUrl}/storage/**` : `${s3Env().endpoint}/${backend.s3.media}/**`;
}

/**
 * Signing alone, per URL: the presigned PUT of the hot path, four ways, in one process and one
 * run. Prints µs per signature and the ratio to the direct SigV4 signer Stowage uses.
 *
 *   npm run bench -- signing
 */
import { PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import { AwsClient } from "aws4fetch";
import { sign } from "../src/storage/local/signed-url.js";
import { Presigner } from "../src/storage/s3/presigner.js";

const credentials = { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY" };
const endpoint = "http://127.0.0.1:9000";
const headers = { "Content-Type": "image/png", "Content-Length": "12345", "Cache-Control": "public, max-age=86400", "If-None-Match": "*" };
let n = 0;
const key = () => `avatars/alice/${(n++).toString(36)}.png`;

const client = new S3Client({ endpoint, region: "us-east-1", forcePathStyle: true, credentials, requestChecksumCalculation: "WHEN_REQUIRED" });
const presigner = new Presigner({ endpoint: new URL(endpoint), region: "us-east-1", forcePathStyle: true, credentials: async () => credentials, clockOffset: () => 0 });
const aws4 = new AwsClient({ ...credentials, service: "s3", region: "us-east-1" });
const secret = "local-signing-secret-local-signing-secret";

const cases: [string, () => Promise<unknown>][] = [
  ["@smithy/signature-v4 direct (Stowage)", () => presigner.presign({ method: "PUT", bucket: "media", key: key(), expiresInSeconds: 300, headers })],
  ["getSignedUrl (s3-request-presigner)", () =>
    getSignedUrl(client, new PutObjectCommand({ Bucket: "media", Key: key(), ContentType: "image/png", ContentLength: 12345, CacheControl: "public, max-age=86400", IfNoneMatch: "*" }), { expiresIn: 300 })],
  ["aws4fetch", () => aws4.sign(`${endpoint}/media/${key()}?X-Amz-Expires=300`, { method: "PUT", headers, aws: { signQuery: true } })],
  ["local HMAC signer", async () => sign({ method: "PUT", bucket: "media", key: key(), expires: 1_900_000_000, contentType: "image/png", contentLength: 12345, cacheControl: "public, max-age=86400" }, secret)],
];

async function measure(fn: () => Promise<unknown>, ms: number): Promise<number> {
  let count = 0;
  const end = performance.now() + ms;
  while (performance.now() < end) {
    for (let i = 0; i < 100; i++) await fn();
    count += 100;
  }
  return (ms * 1000) / count; // µs per call
}

export async function run(seconds: number): Promise<Record<string, number>> {
  const perCase = (seconds * 1000) / cases.length / 3;
  const results: Record<string, number[]> = {};
  for (const [, fn] of cases) await measure(fn, 200); // warm up every path first
  for (let round = 0; round < 3; round++) {
    for (const [name, fn] of cases) (results[name] ??= []).push(await measure(fn, perCase));
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
  return Object.fromEntries(Object.entries(results).map(([name, xs]) => [name, median(xs)]));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const results = await run(Number(process.env.BENCH_SECONDS ?? 9));
  const base = results["@smithy/signature-v4 direct (Stowage)"] ?? 1;
  for (const [name, us] of Object.entries(results)) console.log(`${name.padEnd(40)} ${us.toFixed(1).padStart(8)} µs  ×${(us / base).toFixed(2)}`);
}

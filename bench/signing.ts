/**
 * Signing alone, per URL: the presigned PUT of the hot path, five ways, in one process and one
 * run. Reports µs per signature and how many times faster Stowage's SigV4 presigner (over
 * `node:crypto`) is than each alternative, the AWS SDK's own signer called directly among them.
 *
 *   npm run bench -- signing          (or: node --import tsx bench/signing.ts)
 */
import { PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import { Hash } from "@smithy/hash-node";
import { HttpRequest } from "@smithy/protocol-http";
import { SignatureV4 } from "@smithy/signature-v4";
import { AwsClient } from "aws4fetch";
import { sign } from "../src/storage/local/signed-url.js";
import { Presigner } from "../src/storage/s3/presigner.js";
import { judge, main, output, progress } from "./lib/report.js";
import { RUNS, SECONDS, WARMUP_SECONDS } from "./lib/settings.js";
import { median } from "./lib/stats.js";

const credentials = { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY" };
const endpoint = "http://127.0.0.1:9000";
const headers = { "Content-Type": "image/png", "Content-Length": "12345", "Cache-Control": "public, max-age=86400", "If-None-Match": "*" };
let n = 0;
const key = () => `avatars/alice/${(n++).toString(36)}.png`;

const client = new S3Client({ endpoint, region: "us-east-1", forcePathStyle: true, credentials, requestChecksumCalculation: "WHEN_REQUIRED" });
const presigner = new Presigner({ endpoint: new URL(endpoint), region: "us-east-1", forcePathStyle: true, credentials: async () => credentials, clockOffset: () => 0 });
const aws4 = new AwsClient({ ...credentials, service: "s3", region: "us-east-1" });
const secret = "local-signing-secret-local-signing-secret";

const smithy = new SignatureV4({ service: "s3", region: "us-east-1", credentials, sha256: Hash.bind(null, "sha256"), uriEscapePath: false, applyChecksum: false });
const lowerHeaders = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));

const DIRECT = "SigV4 over node:crypto (Stowage, S3)";
const LOCAL = "local HMAC signer (Stowage, local disk)";
const cases: [string, () => Promise<unknown>][] = [
  [DIRECT, () => presigner.presign({ method: "PUT", bucket: "media", key: key(), expiresInSeconds: 300, headers })],
  ["@smithy/signature-v4 called directly (Stowage before)", () => {
    const request = new HttpRequest({
      protocol: "http:", hostname: "127.0.0.1", port: 9000, method: "PUT", path: `/media/${key()}`, query: {},
      headers: { host: "127.0.0.1:9000", ...lowerHeaders, "x-amz-content-sha256": "UNSIGNED-PAYLOAD" },
    });
    return smithy.presign(request, { expiresIn: 300, signableHeaders: new Set(Object.keys(request.headers)) });
  }],
  ["getSignedUrl (s3-request-presigner)", () =>
    getSignedUrl(client, new PutObjectCommand({ Bucket: "media", Key: key(), ContentType: "image/png", ContentLength: 12345, CacheControl: "public, max-age=86400", IfNoneMatch: "*" }), { expiresIn: 300 })],
  ["aws4fetch", () => aws4.sign(`${endpoint}/media/${key()}?X-Amz-Expires=300`, { method: "PUT", headers, aws: { signQuery: true } })],
  [LOCAL, async () => sign({ method: "PUT", bucket: "media", key: key(), expires: 1_900_000_000, contentType: "image/png", contentLength: 12345, cacheControl: "public, max-age=86400" }, secret)],
];

/** µs per call: sequential awaited calls in batches of 50 for `ms`, timed by the real elapsed time. */
async function measure(fn: () => Promise<unknown>, ms: number): Promise<number> {
  let count = 0;
  const start = performance.now();
  const end = start + ms;
  while (performance.now() < end) {
    for (let i = 0; i < 50; i++) await fn();
    count += 50;
  }
  return ((performance.now() - start) * 1000) / count;
}

/** µs per signature of each case, the median of `RUNS` interleaved rounds. */
export async function measureAll(perCaseMs: number): Promise<Record<string, number>> {
  const results: Record<string, number[]> = {};
  for (const [, fn] of cases) await measure(fn, Math.min(300, WARMUP_SECONDS * 200)); // warm every path first
  for (let round = 0; round < RUNS; round++) {
    for (const [name, fn] of cases) (results[name] ??= []).push(await measure(fn, perCaseMs));
  }
  return Object.fromEntries(Object.entries(results).map(([name, xs]) => [name, median(xs)]));
}

async function run() {
  const out = output("signing");
  // The whole benchmark takes about BENCH_SECONDS × 2 (it is cheap and in process).
  const perCaseMs = (SECONDS * 2000) / cases.length / RUNS;
  const results = await measureAll(perCaseMs);
  const direct = results[DIRECT] ?? Number.NaN;
  for (const [name, us] of Object.entries(results)) progress("signing", `${name.padEnd(42)} ${us.toFixed(1).padStart(8)} µs`);
  const s3Cases = Object.entries(results).filter(([name]) => name !== LOCAL);
  const fastest = Math.min(...s3Cases.map(([, us]) => us));
  for (const [name, us] of s3Cases.filter(([name]) => name !== DIRECT)) {
    out.rows.push({
      benchmark: "signing (S3 presigned PUT)", metric: "µs per signature", unit: "µs", stowage: direct, baseline: us, baselineName: name,
      ratio: us / direct, ratioKind: "speed-up", target: "fastest on the hot path", met: judge(direct <= fastest),
    });
  }
  out.rows.push({ benchmark: "signing (local disk URL)", metric: "µs per signature", unit: "µs", stowage: results[LOCAL] ?? Number.NaN });
  out.notes.push(`signing: in process, sequential awaited calls, ${RUNS} interleaved round(s) of ${(perCaseMs / 1000).toFixed(2)} s per case, median`);
  out.raw = results;
  return out;
}

await main(import.meta.url, run);

import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable, Transform } from "node:stream";
import { after, before, describe, it } from "node:test";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import {
  DeleteBucketCommand,
  DeleteBucketPolicyCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutBucketPolicyCommand,
  PutObjectCommand,
} from "@aws-sdk/client-s3";
import { type CopyResult, copyObjects, type CopyTarget } from "../../src/storage/copy.js";
import { LocalDriver } from "../../src/storage/local/local-driver.js";
import { parseOrigin } from "../../src/storage/origin.js";
import { applyCors, corsRules, readCors } from "../../src/storage/s3/cors.js";
import { initBuckets } from "../../src/storage/s3/init.js";
import type { S3Driver } from "../../src/storage/s3/s3-driver.js";
import { runStowage } from "../helpers/cli.js";
import { rawRequest } from "../helpers/http.js";
import { adminClient, s3Driver, s3Env, tempBucket } from "../helpers/s3.js";

const MiB = 1024 * 1024;
const APP = "https://app.example.com";
const BUCKETS = { public: { public: true }, private: { public: false }, compliance: { public: false } };
type TempBucket = Awaited<ReturnType<typeof tempBucket>>;

/** Runs the real `stowage` command (as `npm run stowage` would) against the RGW settings in `env`. */
const stowage = (args: string[], env: Record<string, string>) => runStowage(args, { LOG_LEVEL: "warn", ...env });

/** Stowage settings for S3 storage on the test RGW, media and compliance in the given buckets. */
function s3Settings(dataDir: string, media: string, compliance: string, secret = s3Env().secretAccessKey) {
  const env = s3Env();
  return {
    STOWAGE_DATA_DIR: dataDir,
    STOWAGE_STORAGE: "s3",
    STOWAGE_S3_ENDPOINT: env.endpoint,
    STOWAGE_S3_REGION: env.region,
    STOWAGE_S3_ACCESS_KEY_ID: env.accessKeyId,
    STOWAGE_S3_SECRET_ACCESS_KEY: secret,
    STOWAGE_S3_BUCKET: media,
    STOWAGE_S3_COMPLIANCE_BUCKET: compliance,
  };
}

/** A browser's CORS preflight for a PUT to `bucket`. */
function preflight(bucket: string, origin: string, headers = "content-type") {
  return rawRequest(`${s3Env().endpoint}/${bucket}/uploads/somekey`, {
    method: "OPTIONS",
    headers: { Origin: origin, "Access-Control-Request-Method": "PUT", "Access-Control-Request-Headers": headers },
  });
}

const md5 = (bytes: Buffer) => createHash("md5").update(bytes).digest("hex");

async function collect(results: AsyncIterable<CopyResult>): Promise<CopyResult[]> {
  const all: CopyResult[] = [];
  for await (const result of results) all.push(result);
  return all;
}

const outcomes = (results: CopyResult[]) =>
  Object.fromEntries(results.map((r) => [`${r.bucket}/${r.key}`, r.outcome]));

async function tempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), "stowage-storage-cli-"));
}

function localDriver(root: string): LocalDriver {
  return new LocalDriver({ root, baseUrl: "http://127.0.0.1:1", signingSecret: "s".repeat(32), buckets: BUCKETS });
}

describe("stowage storage cors", () => {
  let media: TempBucket;
  let compliance: TempBucket;
  let dataDir: string;
  before(async () => {
    [media, compliance, dataDir] = await Promise.all([tempBucket("stowage-cors"), tempBucket("stowage-cors"), tempDir()]);
  });
  after(async () => {
    await Promise.all([media.drop(), compliance.drop(), rm(dataDir, { recursive: true, force: true })]);
  });

  it("accepts only bare http(s) origins", () => {
    assert.equal(parseOrigin("https://App.Example.com:443/"), APP);
    assert.equal(parseOrigin("http://localhost:5173"), "http://localhost:5173");
    for (const bad of ["app.example.com", "ftp://example.com", "https://example.com/app", "https://example.com?x=1", "https://u:p@example.com", "*"]) {
      assert.throws(() => parseOrigin(bad), /not a usable origin/, bad);
    }
  });

  it("applies the rules, reads them back, and the store answers preflights for those origins only", async () => {
    const admin = adminClient();
    await applyCors(admin, media.name, corsRules([APP]));
    const [rule, ...others] = await readCors(admin, media.name);
    assert.equal(others.length, 0);
    assert.deepEqual(rule?.AllowedOrigins, [APP]);
    assert.deepEqual([...(rule?.AllowedMethods ?? [])].sort(), ["GET", "HEAD", "POST", "PUT"]);
    assert.deepEqual([...(rule?.AllowedHeaders ?? [])].sort(), ["cache-control", "content-length", "content-md5", "content-type", "if-none-match", "x-amz-*"]);
    assert.deepEqual(rule?.ExposeHeaders, ["ETag"]);
    assert.equal(rule?.MaxAgeSeconds, 3600);

    const allowed = await preflight(media.name, APP, "content-type,cache-control,if-none-match,content-md5,x-amz-checksum-crc32");
    assert.equal(allowed.status, 200);
    assert.equal(allowed.headers["access-control-allow-origin"], APP);
    assert.match(String(allowed.headers["access-control-expose-headers"]), /ETag/i);
    const otherOrigin = await preflight(media.name, "https://evil.example.com");
    assert.equal(otherOrigin.headers["access-control-allow-origin"], undefined);
    const otherHeader = await preflight(media.name, APP, "content-type,x-not-allowed");
    assert.equal(otherHeader.headers["access-control-allow-origin"], undefined, "only the listed headers are allowed");
    admin.destroy();
  });

  it("from the command line: every configured bucket, printed as JSON; --dry-run changes nothing", async () => {
    const env = s3Settings(dataDir, media.name, compliance.name);
    const dry = await stowage(["storage", "cors", "--origin", "http://localhost:5173", "--dry-run"], env);
    assert.equal(dry.code, 0, dry.stderr);
    assert.deepEqual(JSON.parse(dry.stdout)[compliance.name][0].AllowedOrigins, ["http://localhost:5173"]);
    assert.deepEqual(await readCors(adminClient(), compliance.name), [], "dry run applied nothing");

    const res = await stowage(["storage", "cors", "--origin", APP, "--origin", "http://localhost:5173"], env);
    assert.equal(res.code, 0, res.stderr);
    const printed = JSON.parse(res.stdout);
    for (const bucket of [media.name, compliance.name]) {
      assert.deepEqual([...printed[bucket][0].AllowedOrigins].sort(), ["http://localhost:5173", APP]);
      assert.equal((await preflight(bucket, "http://localhost:5173")).headers["access-control-allow-origin"], "http://localhost:5173");
    }

    const bad = await stowage(["storage", "cors", "--origin", "https://app.example.com/upload"], env);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /not a usable origin: it must not have a path/);
  });

  it("on local storage, explains that Stowage answers preflights itself and names STOWAGE_CORS_ORIGINS", async () => {
    const res = await stowage(["storage", "cors", "--origin", APP], { STOWAGE_DATA_DIR: dataDir });
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stdout, /preflights/);
    assert.match(res.stdout, new RegExp(`STOWAGE_CORS_ORIGINS=${APP}`));
  });
});

describe("stowage storage init", () => {
  let existing: TempBucket;
  let missing: TempBucket;
  let dataDir: string;
  before(async () => {
    [existing, missing, dataDir] = await Promise.all([tempBucket("stowage-init"), tempBucket("stowage-init"), tempDir()]);
    // A bucket name that is certainly free: created, then removed (recreated by init; dropped after).
    await adminClient().send(new DeleteBucketCommand({ Bucket: missing.name }));
  });
  after(async () => {
    // `missing` exists again only if init created it.
    const created = await adminClient().send(new HeadBucketCommand({ Bucket: missing.name })).then(() => true, () => false);
    await Promise.all([existing.drop(), created ? missing.drop() : undefined, rm(dataDir, { recursive: true, force: true })]);
  });

  it("creates a missing bucket and proves write, read and delete, leaving no probe behind", async () => {
    const driver = s3Driver({ a: { name: existing.name, public: false }, b: { name: missing.name, public: false } });
    const results = await initBuckets(driver.client, driver.bucketNames());
    assert.deepEqual(
      results.map((r) => [r.bucket, r.ok, r.steps.map((s) => `${s.step}:${s.outcome ?? (s.ok ? "ok" : s.error)}`)]),
      [
        [existing.name, true, ["bucket:exists", "write:ok", "read:ok", "delete:ok"]],
        [missing.name, true, ["bucket:created", "write:ok", "read:ok", "delete:ok"]],
      ],
    );
    const admin = adminClient();
    await admin.send(new HeadBucketCommand({ Bucket: missing.name }));
    for (const bucket of [existing.name, missing.name]) {
      assert.equal((await admin.send(new ListObjectsV2Command({ Bucket: bucket }))).KeyCount, 0, "probe deleted");
    }
  });

  it("names the step that failed: wrong credentials at the bucket, a write-denying policy at write", async () => {
    const wrong = s3Driver({ a: { name: existing.name, public: false } }, { credentials: { accessKeyId: s3Env().accessKeyId, secretAccessKey: "wrong-secret" } });
    const [refused] = await initBuckets(wrong.client, wrong.bucketNames());
    assert.equal(refused?.ok, false);
    assert.equal(refused?.steps.length, 1);
    assert.equal(refused?.steps[0]?.step, "bucket");
    assert.match(String(refused?.steps[0]?.error), /HTTP 403.*access key and secret/);

    const admin = adminClient();
    const policy = {
      Version: "2012-10-17",
      Statement: [{ Effect: "Deny", Principal: "*", Action: "s3:PutObject", Resource: `arn:aws:s3:::${existing.name}/*` }],
    };
    await admin.send(new PutBucketPolicyCommand({ Bucket: existing.name, Policy: JSON.stringify(policy) }));
    try {
      const driver = s3Driver({ a: { name: existing.name, public: false } });
      const [denied] = await initBuckets(driver.client, driver.bucketNames());
      assert.equal(denied?.ok, false);
      assert.deepEqual(denied?.steps.map((s) => [s.step, s.ok]), [["bucket", true], ["write", false]]);
      assert.match(String(denied?.steps[1]?.error), /HTTP 403 AccessDenied/);
    } finally {
      await admin.send(new DeleteBucketPolicyCommand({ Bucket: existing.name }));
    }
  });

  it("from the command line: one line per bucket, exit 1 naming bucket, step and error", async () => {
    const ok = await stowage(["storage", "init"], s3Settings(dataDir, existing.name, missing.name));
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, new RegExp(`${existing.name} +exists ✓ +write ✓ +read ✓ +delete ✓`));
    assert.match(ok.stdout, new RegExp(`${missing.name} +exists ✓ +write ✓ +read ✓ +delete ✓`));

    const bad = await stowage(["storage", "init"], s3Settings(dataDir, existing.name, existing.name, "wrong-secret"));
    assert.equal(bad.code, 1);
    assert.match(bad.stdout, new RegExp(`${existing.name} +bucket ✗ +write – +read – +delete –`));
    assert.match(bad.stderr, new RegExp(`stowage: storage init failed:\\n +${existing.name}: bucket check/create failed: HTTP 403`));
    assert.doesNotMatch(bad.stderr, /at .*\.ts:\d+/, "no stack trace");

    const local = await stowage(["storage", "init"], { STOWAGE_DATA_DIR: dataDir });
    assert.equal(local.code, 0, local.stderr);
    assert.match(local.stdout, new RegExp(`Local storage ready at ${join(dataDir, "storage")}`));
  });

  it("prints no AWS SDK NodeVersionSupportWarning, while other warnings still show", async () => {
    // A warning of Node's own kind, emitted once the command has done its work (so after
    // anything Stowage set up): it must still reach stderr.
    const emit = "process.once(%22beforeExit%22,()=>process.emitWarning(%22stowage-canary-warning%22))";
    const canary = { NODE_OPTIONS: `--import=data:text/javascript,${emit}` };
    const quiet = await stowage(["storage", "init"], { ...s3Settings(dataDir, existing.name, existing.name), ...canary });
    assert.equal(quiet.code, 0, quiet.stderr);
    assert.doesNotMatch(quiet.stderr, /NodeVersionSupportWarning/);
    assert.match(quiet.stderr, /Warning: stowage-canary-warning/);
    if (Number(process.versions.node.split(".")[0]) < 22) {
      // The SDK warns only under Node < 22: there, its own switch set to false shows it again,
      // which also proves this test would see it.
      const loud = await stowage(["storage", "init"], {
        ...s3Settings(dataDir, existing.name, existing.name),
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "false",
      });
      assert.equal(loud.code, 0, loud.stderr);
      assert.match(loud.stderr, /Warning: NodeVersionSupportWarning/);
    }
  });
});

describe("copyObjects: local disk → S3", () => {
  const objects = [
    { bucket: "public", key: "avatars/alice/0197a1b2-avatar.png", body: randomBytes(3000), contentType: "image/png", cacheControl: "public, max-age=86400" },
    { bucket: "private", key: "documents/bob/0197a1b3-report.pdf", body: randomBytes(20_000), contentType: "application/pdf", cacheControl: "private, max-age=86400" },
    { bucket: "private", key: "chat/room-7/2025/06/0197a1b4.txt", body: Buffer.from("héllo\n"), contentType: "text/plain; charset=utf-8", cacheControl: "no-store" },
    { bucket: "private", key: "voice-notes/carol/0197a1b5.webm", body: randomBytes(6 * MiB + 7), contentType: "audio/webm", cacheControl: "private, max-age=60" },
    { bucket: "compliance", key: "signed-pdfs/2025/06/0197a1b6.pdf", body: randomBytes(1234), contentType: "application/pdf", cacheControl: "private, max-age=86400" },
    { bucket: "public", key: "avatars/dave/0197a1b7-empty.png", body: Buffer.alloc(0), contentType: "image/png", cacheControl: "public, max-age=3600" },
  ];
  const logical = Object.keys(BUCKETS);
  let root: string;
  let source: LocalDriver;
  let media: TempBucket;
  let compliance: TempBucket;
  let target: S3Driver;
  const where = (bucket: string) => (bucket === "compliance" ? compliance.name : media.name);

  before(async () => {
    root = await tempDir();
    source = localDriver(root);
    await source.init();
    for (const o of objects) {
      await source.put({ ...o, body: Readable.from([o.body]), contentLength: o.body.length });
    }
    [media, compliance] = await Promise.all([tempBucket("stowage-copy"), tempBucket("stowage-copy")]);
    // As Stowage maps them by default: public and private share the media bucket.
    target = s3Driver({
      public: { name: media.name, public: true },
      private: { name: media.name, public: false },
      compliance: { name: compliance.name, public: false },
    });
  });
  after(async () => {
    await Promise.all([media.drop(), compliance.drop(), rm(root, { recursive: true, force: true })]);
  });

  /** Reads an object back from the store, independently of the driver under test. */
  async function fetchBack(bucket: string, key: string) {
    const got = await adminClient().send(new GetObjectCommand({ Bucket: where(bucket), Key: key }));
    return { ...got, bytes: Buffer.from((await got.Body?.transformToByteArray()) ?? []) };
  }

  it("copies every object byte-identical, with its content type and cache-control", async () => {
    const started = performance.now();
    const results = await collect(copyObjects(source, target, logical));
    const seconds = (performance.now() - started) / 1000;
    const bytes = objects.reduce((sum, o) => sum + o.body.length, 0);
    process.stderr.write(`# copied ${results.length} objects, ${(bytes / MiB).toFixed(2)} MiB, in ${seconds.toFixed(2)} s\n`);
    assert.deepEqual(outcomes(results), Object.fromEntries(objects.map((o) => [`${o.bucket}/${o.key}`, "copied"])));
    for (const o of objects) {
      const got = await fetchBack(o.bucket, o.key);
      assert.ok(got.bytes.equals(o.body), `${o.key}: same bytes`);
      assert.equal(got.ContentType, o.contentType, o.key);
      assert.equal(got.CacheControl, o.cacheControl, o.key);
      assert.equal(got.ETag, `"${md5(o.body)}"`, o.key);
    }
  });

  it("is resumable: a re-run skips what is there, and copies again only what is missing or different", async () => {
    const admin = adminClient();
    const before = await admin.send(new HeadObjectCommand({ Bucket: media.name, Key: objects[3]?.key }));
    const again = await collect(copyObjects(source, target, logical));
    assert.ok(again.every((r) => r.outcome === "skipped"), JSON.stringify(again));
    const after = await admin.send(new HeadObjectCommand({ Bucket: media.name, Key: objects[3]?.key }));
    assert.deepEqual(after.LastModified, before.LastModified, "not rewritten");

    const [gone, changed] = [objects[0], objects[1]];
    assert.ok(gone && changed);
    await admin.send(new DeleteObjectCommand({ Bucket: media.name, Key: gone.key }));
    // Same size, other bytes: what a corrupt earlier copy looks like.
    await admin.send(new PutObjectCommand({ Bucket: media.name, Key: changed.key, Body: randomBytes(changed.body.length) }));
    const repaired = await collect(copyObjects(source, target, logical));
    assert.deepEqual(repaired.filter((r) => r.outcome !== "skipped").map((r) => [r.key, r.outcome]).sort(), [
      [changed.key, "copied"],
      [gone.key, "copied"],
    ].sort());
    for (const o of [gone, changed]) assert.ok((await fetchBack(o.bucket, o.key)).bytes.equals(o.body), o.key);
  });

  it("reports a copy the store got wrong as failed, and deletes the bad object", async () => {
    const key = "documents/erin/0197a1b8.bin";
    const body = randomBytes(50_000);
    await source.put({ bucket: "private", key, body: Readable.from([body]), contentLength: body.length, contentType: "application/octet-stream" });
    // The real store behind a link that flips one byte: the ETag check must catch it.
    const flipFirstByte = () => new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        callback(null, Buffer.concat([Buffer.from([(chunk[0] ?? 0) ^ 0xff]), chunk.subarray(1)]));
      },
    });
    const corrupting: CopyTarget = {
      stat: (o) => target.stat(o),
      delete: (o) => target.delete(o),
      put: (o) => target.put({ ...o, body: o.body.pipe(flipFirstByte()) }),
    };
    const results = await collect(copyObjects(source, corrupting, ["private"]));
    const failed = results.filter((r) => r.outcome === "failed");
    assert.deepEqual(failed.map((r) => r.key), [key]);
    assert.match(String(failed[0]?.error), /verification failed: .*MD5 [0-9a-f]{32}; the target object was deleted/);
    assert.equal(await target.stat({ bucket: "private", key }), undefined, "the corrupt copy is gone");
    assert.equal((await collect(copyObjects(source, target, ["private"]))).find((r) => r.key === key)?.outcome, "copied");
  });

  it("--dry-run decides the same way but writes and deletes nothing", async () => {
    const admin = adminClient();
    const changed = objects[2];
    assert.ok(changed);
    const other = randomBytes(changed.body.length);
    await admin.send(new PutObjectCommand({ Bucket: media.name, Key: changed.key, Body: other }));
    const dry = await collect(copyObjects(source, target, logical, { dryRun: true }));
    assert.deepEqual(dry.filter((r) => r.outcome !== "skipped").map((r) => [r.key, r.outcome, r.size]), [
      [changed.key, "would-copy", changed.body.length],
    ]);
    assert.ok((await fetchBack(changed.bucket, changed.key)).bytes.equals(other), "the differing object was left alone");

    const empty = await tempBucket("stowage-copy");
    try {
      const fresh = s3Driver(Object.fromEntries(logical.map((b) => [b, { name: empty.name, public: false }])));
      const all = await collect(copyObjects(source, fresh, logical, { dryRun: true }));
      assert.equal(all.length, objects.length + 1);
      assert.ok(all.every((r) => r.outcome === "would-copy"));
      assert.equal((await admin.send(new ListObjectsV2Command({ Bucket: empty.name }))).KeyCount, 0, "nothing copied");
    } finally {
      await empty.drop();
    }
  });

  it("stops on abort, and the next run continues from there", async () => {
    const fresh = await tempBucket("stowage-copy");
    try {
      const driver = s3Driver(Object.fromEntries(logical.map((b) => [b, { name: fresh.name, public: false }])));
      const controller = new AbortController();
      const first: CopyResult[] = [];
      await assert.rejects(async () => {
        for await (const result of copyObjects(source, driver, logical, { signal: controller.signal })) {
          first.push(result);
          controller.abort();
        }
      });
      assert.equal(first.length, 1);
      const rest = await collect(copyObjects(source, driver, logical));
      assert.equal(rest.filter((r) => r.outcome === "skipped").length, 1);
      assert.equal(rest.filter((r) => r.outcome === "copied").length, objects.length);
    } finally {
      await fresh.drop();
    }
  });
});

setFlagsFromString("--expose-gc");
const collectGarbage = runInNewContext("gc") as () => void;

describe("copyObjects memory", () => {
  it("streams: copying a 96 MiB object keeps memory flat", async () => {
    const root = await tempDir();
    const bucket = await tempBucket("stowage-copy-big");
    try {
      const source = localDriver(root);
      await source.init();
      const size = 96 * MiB;
      const chunk = randomBytes(MiB);
      await source.put({ bucket: "private", key: "videos/big.bin", body: Readable.from((function* () {
        for (let i = 0; i < size / MiB; i++) yield chunk;
      })()), contentLength: size, contentType: "video/mp4" });
      const target = s3Driver({ private: { name: bucket.name, public: false } }, { requestTimeoutMs: 120_000 });
      // Live memory (heap + buffers right after a full collection), not RSS: RSS also counts chunks already
      // read and dropped that V8 has not yet collected, which under load reached 50 MiB while streaming.
      // Holding the object would keep >= 96 MiB live; streaming keeps a few chunks.
      const live = (): number => {
        collectGarbage();
        const usage = process.memoryUsage();
        return usage.heapUsed + usage.arrayBuffers;
      };
      const baseline = live();
      let peak = baseline;
      const sampler = setInterval(() => (peak = Math.max(peak, live())), 50);
      const started = performance.now();
      const results = await collect(copyObjects(source, target, ["private"])).finally(() => clearInterval(sampler));
      const seconds = (performance.now() - started) / 1000;
      assert.deepEqual(results.map((r) => r.outcome), ["copied"]);
      const grew = ((peak - baseline) / MiB).toFixed(1);
      process.stderr.write(`# copied 96 MiB in ${seconds.toFixed(2)} s (${(96 / seconds).toFixed(0)} MiB/s); live memory +${grew} MiB at peak\n`);
      assert.ok(peak - baseline < 24 * MiB, `live memory grew by ${grew} MiB`);
    } finally {
      await bucket.drop();
      await rm(root, { recursive: true, force: true });
    }
  });
});

describe("stowage storage copy", () => {
  let dataDir: string;
  let media: TempBucket;
  let compliance: TempBucket;
  const files = [
    { bucket: "private", key: "documents/zoe/0197a1c0.pdf", body: randomBytes(4321) },
    { bucket: "compliance", key: "signed-pdfs/2025/07/0197a1c1.pdf", body: randomBytes(777) },
  ];
  before(async () => {
    dataDir = await tempDir();
    const source = localDriver(join(dataDir, "storage"));
    await source.init();
    for (const f of files) {
      await source.put({ ...f, body: Readable.from([f.body]), contentLength: f.body.length, contentType: "application/pdf", cacheControl: "private, max-age=86400" });
    }
    [media, compliance] = await Promise.all([tempBucket("stowage-cli-copy"), tempBucket("stowage-cli-copy")]);
  });
  after(async () => {
    await Promise.all([media.drop(), compliance.drop(), rm(dataDir, { recursive: true, force: true })]);
  });

  it("lists with --dry-run, copies, then skips on a second run", async () => {
    const env = s3Settings(dataDir, media.name, compliance.name);
    const dry = await stowage(["storage", "copy", "--from", "local", "--to", "s3", "--dry-run"], env);
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, /would copy {2}private\/documents\/zoe\/0197a1c0\.pdf {2}4321 bytes/);
    assert.match(dry.stdout, /would copy {2}compliance\/signed-pdfs\/2025\/07\/0197a1c1\.pdf {2}777 bytes/);
    assert.match(dry.stdout, /Dry run: would copy 2 objects .*Nothing was copied/);
    assert.equal((await adminClient().send(new ListObjectsV2Command({ Bucket: media.name }))).KeyCount, 0);

    const copy = await stowage(["storage", "copy", "--from", "local", "--to", "s3"], env);
    assert.equal(copy.code, 0, copy.stderr);
    assert.match(copy.stdout, /Copied 2, skipped 0 \(already in S3\), failed 0 of 2 objects/);
    const pdf = await adminClient().send(new GetObjectCommand({ Bucket: compliance.name, Key: files[1]?.key }));
    assert.ok(Buffer.from((await pdf.Body?.transformToByteArray()) ?? []).equals(files[1]?.body ?? Buffer.alloc(1)));
    assert.equal(pdf.CacheControl, "private, max-age=86400");

    const again = await stowage(["storage", "copy", "--from", "local", "--to", "s3"], env);
    assert.match(again.stdout, /Copied 0, skipped 2/);
  });

  it("refuses clearly when the configured storage is not S3, or the target bucket is missing", async () => {
    const local = await stowage(["storage", "copy", "--from", "local", "--to", "s3"], { STOWAGE_DATA_DIR: dataDir });
    assert.equal(local.code, 1);
    assert.match(local.stderr, /^stowage: storage copy --to s3 .*configured storage is local.*STOWAGE_STORAGE=s3/);
    const missing = await stowage(["storage", "copy", "--from", "local", "--to", "s3"], s3Settings(dataDir, "stowage-no-such-bucket", compliance.name));
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /bucket 'stowage-no-such-bucket' does not exist: create it with `stowage storage init`/);
    assert.doesNotMatch(missing.stderr, /at .*\.ts:\d+/, "no stack trace");
  });
});

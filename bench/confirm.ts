/**
 * Confirm latency against the real S3 server (RGW) and PostgreSQL: `POST /v1/uploads/{id}/confirm`
 * (JWT, row read, one ranged GET of 4100 bytes for the stat and the sniff, the promote's
 * CopyObject, the confirm transaction, a signed GET for the answer) against the store's own round
 * trips for the same object through the AWS SDK: HEAD + the same ranged GET, and CopyObject (the
 * promote step, also reported alone), each timed apart. The issue's goal: at most 2 ms (p50) and
 * 5 ms (p99) over their sum. One request at a time, so these are latencies, not queueing. Also the
 * local driver's promote (a hard link and its metadata file) in process.
 *
 *   npm run bench -- confirm
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { CopyObjectCommand, GetObjectCommand, HeadObjectCommand } from "@aws-sdk/client-s3";
import { LocalDriver } from "../src/storage/local/local-driver.js";
import { tempPostgres } from "./lib/databases.js";
import { confirmUpload, expectStatus, pngBytes, presignAndPut, type PresignAnswer } from "./lib/http.js";
import { judge, main, output, progress } from "./lib/report.js";
import { s3Client, stowageS3Env, tempBucket } from "./lib/s3.js";
import { pinningNote, RUNS, SECONDS, SMOKE } from "./lib/settings.js";
import { median, percentile } from "./lib/stats.js";
import { startStowage } from "./lib/stowage.js";

const NAME = "confirm";
/** Uploads per run: confirms are timed one by one, so the run's length follows from the count. */
const PER_RUN = SMOKE ? 20 : Math.max(50, Math.round(40 * SECONDS));
const OBJECT = pngBytes(64 * 1024);
const OWN_TRIPS = "RGW HEAD + ranged GET, + CopyObject";

async function run() {
  const out = output(NAME);
  const bucket = await tempBucket();
  const pg = await tempPostgres();
  const s3 = s3Client();
  const server = await startStowage("confirm-postgres-s3", { ...stowageS3Env(bucket.name), DATABASE_URL: pg.url }).catch(async (error: unknown) => {
    await bucket.drop();
    await pg.drop();
    throw error;
  });
  try {
    const headMs = async (key: string) => {
      const start = performance.now();
      await s3.send(new HeadObjectCommand({ Bucket: bucket.name, Key: key }));
      return performance.now() - start;
    };
    const headGetMs = async (key: string) => {
      const start = performance.now();
      await s3.send(new HeadObjectCommand({ Bucket: bucket.name, Key: key }));
      const got = await s3.send(new GetObjectCommand({ Bucket: bucket.name, Key: key, Range: "bytes=0-4099" }));
      await got.Body?.transformToByteArray();
      return performance.now() - start;
    };
    const copyMs = async (key: string) => {
      const start = performance.now();
      await s3.send(new CopyObjectCommand({ Bucket: bucket.name, Key: `bench-copy/${key}`, CopySource: `${bucket.name}/${key}`, MetadataDirective: "REPLACE", ContentType: "image/png" }));
      return performance.now() - start;
    };
    const runs: { confirm: number[]; head: number[]; headGet: number[]; copy: number[] }[] = [];
    // Warm-up: connections, JIT, the SDK's first-call setup, on both sides.
    for (let round = SMOKE ? 1 : 0; round <= RUNS; round++) {
      const warm = round === 0;
      const count = warm ? 10 : PER_RUN;
      const token = await server.token(`confirmer${round}`);
      progress(NAME, `${warm ? "warm-up" : `run ${round}/${RUNS}`}: preparing ${count} uploads (presign + PUT to RGW)`);
      const uploads: PresignAnswer[] = [];
      for (let i = 0; i < count; i++) {
        uploads.push(await presignAndPut(server.baseUrl, token, { ownerType: "document", filename: "scan.png", contentType: "image/png" }, OBJECT));
      }
      const sample = { confirm: [] as number[], head: [] as number[], headGet: [] as number[], copy: [] as number[] };
      for (const [i, upload] of uploads.entries()) {
        // The client's object is at its staging key (the served key exists only after confirm).
        const staged = `staging/${upload.id}`;
        // Alternate which side touches the object first, so neither gets the warmer cache.
        const baselineFirst = i % 2 === 1;
        if (baselineFirst) {
          sample.head.push(await headMs(staged));
          sample.headGet.push(await headGetMs(staged));
        }
        const start = performance.now();
        expectStatus(await confirmUpload(server.baseUrl, token, upload.id), 200, "confirm");
        sample.confirm.push(performance.now() - start);
        if (!baselineFirst) {
          sample.head.push(await headMs(staged));
          sample.headGet.push(await headGetMs(staged));
        }
        sample.copy.push(await copyMs(staged));
      }
      if (!warm) {
        runs.push(sample);
        const p = (xs: number[], q: number) => percentile(xs, q).toFixed(1);
        progress(NAME, `run ${round}/${RUNS}: confirm p50 ${p(sample.confirm, 50)} ms p99 ${p(sample.confirm, 99)} ms; HEAD p50 ${p(sample.head, 50)} p99 ${p(sample.head, 99)}; HEAD+GET p50 ${p(sample.headGet, 50)} p99 ${p(sample.headGet, 99)}; CopyObject p50 ${p(sample.copy, 50)}`);
      }
      await bucket.empty();
    }
    const m = (pick: (r: (typeof runs)[number]) => number[], q: number) => median(runs.map((r) => percentile(pick(r), q)));
    // The store's own round trips for one object: HEAD + ranged GET, then the promote's CopyObject
    // (timed apart, on the same object), summed object by object.
    const ownTrips = (r: (typeof runs)[number]) => r.headGet.map((ms, i) => ms + (r.copy[i] ?? Number.NaN));
    const confirmP50 = m((r) => r.confirm, 50);
    const confirmP99 = m((r) => r.confirm, 99);
    out.rows.push(
      { benchmark: "confirm (RGW + PostgreSQL)", metric: "p50 latency", unit: "ms", stowage: confirmP50, baseline: m((r) => r.head, 50), baselineName: "RGW HEAD", ratio: confirmP50 / m((r) => r.head, 50) },
      {
        benchmark: "confirm (RGW + PostgreSQL)", metric: "p99 latency", unit: "ms", stowage: confirmP99, baseline: m((r) => r.head, 99), baselineName: "RGW HEAD",
        ratio: confirmP99 / m((r) => r.head, 99), target: "< 15 ms", met: judge(confirmP99 < 15),
      },
      {
        benchmark: "confirm (RGW + PostgreSQL)", metric: "p50 overhead over the store's own round trips", unit: "ms",
        stowage: confirmP50 - m(ownTrips, 50), baseline: m(ownTrips, 50), baselineName: OWN_TRIPS, target: "≤ +2 ms", met: judge(confirmP50 - m(ownTrips, 50) <= 2),
      },
      {
        benchmark: "confirm (RGW + PostgreSQL)", metric: "p99 overhead over the store's own round trips", unit: "ms",
        stowage: confirmP99 - m(ownTrips, 99), baseline: m(ownTrips, 99), baselineName: OWN_TRIPS, target: "≤ +5 ms", met: judge(confirmP99 - m(ownTrips, 99) <= 5),
      },
    );
    const local = await localCopies();
    out.rows.push(
      { benchmark: "promote at confirm (64 KiB)", metric: "RGW CopyObject p50", unit: "ms", stowage: m((r) => r.copy, 50), baseline: m((r) => r.headGet, 50), baselineName: "RGW HEAD + ranged GET", ratio: m((r) => r.copy, 50) / m((r) => r.headGet, 50) },
      { benchmark: "promote at confirm (64 KiB)", metric: "RGW CopyObject p99", unit: "ms", stowage: m((r) => r.copy, 99) },
      { benchmark: "promote at confirm (64 KiB)", metric: "local copy (link + metadata) p50", unit: "ms", stowage: percentile(local, 50) },
      { benchmark: "promote at confirm (64 KiB)", metric: "local copy (link + metadata) p99", unit: "ms", stowage: percentile(local, 99) },
    );
    out.notes.push(
      `confirm: ${RUNS} run(s) of ${PER_RUN} fresh 64 KiB PNG uploads (document, private: the answer carries a signed GET), confirmed one at a time over keep-alive; ` +
      `baselines through the AWS SDK from the benchmark process on the same objects, order alternated per object; median of the runs' percentiles; ${pinningNote()}`,
    );
    out.raw = { runs };
  } finally {
    await server.stop();
    s3.destroy();
    await bucket.drop().catch(() => undefined);
    await pg.drop();
  }
  return out;
}

/** The local driver's promote (`copy`: a hard link and a metadata file), timed in process. */
async function localCopies(): Promise<number[]> {
  const root = await mkdtemp(join(tmpdir(), "stowage-bench-copy-"));
  try {
    const driver = new LocalDriver({ root, baseUrl: "http://127.0.0.1", signingSecret: "x".repeat(32), buckets: { private: { public: false } } });
    await driver.init();
    const times: number[] = [];
    for (let i = 0; i < PER_RUN * RUNS; i++) {
      const from = { bucket: "private", key: `staging/${i}` };
      const stat = await driver.put({ ...from, body: Readable.from([OBJECT]), contentType: "image/png", contentLength: OBJECT.length });
      const start = performance.now();
      await driver.copy({ from, to: { bucket: "private", key: `documents/u/${i}.png` }, size: OBJECT.length, contentType: "image/png", cacheControl: "private", ifMatch: stat.etag });
      times.push(performance.now() - start);
    }
    return times;
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

await main(import.meta.url, run);

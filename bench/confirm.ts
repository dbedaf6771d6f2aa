/**
 * Confirm latency against the real S3 server (RGW) and PostgreSQL: `POST /v1/uploads/{id}/confirm`
 * (JWT, row read, one ranged GET of 4100 bytes for the stat and the sniff, the promote's
 * CopyObject, the confirm transaction, a signed GET for the answer) against the store's own round
 * trips for the same object through the AWS SDK: HEAD + the same ranged GET, and CopyObject (the
 * promote step, also reported alone), each timed apart. The issue's goal: at most 2 ms (p50) and
 * 5 ms (p99) over their sum. One request at a time, so these are latencies, not queueing. Also the
 * local driver's promote (a hard link and its metadata file) in process.
 *
 * Beside them, per object, what any confirm must add to those round trips whatever its code
 * (the floor): one HTTP request to a bare Fastify route, the upload's row read by its id, and
 * one durable commit of the three changes a confirm makes (the upload, its quota row, its event)
 * written as a single statement on scratch tables of the same database (one round trip, one WAL
 * flush), all from raw `pg` in this process. What Stowage adds beyond that floor is its own code
 * and its extra round trips.
 *
 *   npm run bench -- confirm
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { CopyObjectCommand, GetObjectCommand, HeadObjectCommand } from "@aws-sdk/client-s3";
import pgLib from "pg";
import { LocalDriver } from "../src/storage/local/local-driver.js";
import { startBare } from "./lib/bare.js";
import { tempPostgres } from "./lib/databases.js";
import { confirmUpload, expectStatus, pngBytes, presignAndPut, type PresignAnswer, request } from "./lib/http.js";
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
  const raw = new pgLib.Pool({ connectionString: pg.url, max: 1 });
  let bare: Awaited<ReturnType<typeof startBare>> | undefined;
  try {
    bare = await startBare(900);
    const bareUrl = `${bare.baseUrl}/v1/uploads`;
    await raw.query(`
      create table floor_uploads (id text primary key, status text not null, size bigint, reserved int not null);
      create table floor_quotas (subject text primary key, used_bytes bigint not null, reserved_bytes bigint not null, pending_count int not null);
      create table floor_events (id text primary key, upload_id text not null, payload text not null, created_at bigint not null);
      insert into floor_quotas values ('user:floor', 0, 0, 0);`);
    /** The floor for one upload: a bare HTTP request, its row read, one one-statement commit. */
    const floorMs = async (id: string) => {
      await raw.query("insert into floor_uploads values ($1, 'pending', null, 1)", [id]);
      await raw.query("update floor_quotas set reserved_bytes = reserved_bytes + $1, pending_count = pending_count + 1", [OBJECT.length]);
      let start = performance.now();
      expectStatus(await request(bareUrl, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" }), 201, "bare");
      const http = performance.now() - start;
      start = performance.now();
      const { rowCount } = await raw.query("select * from uploads where id = $1", [id]);
      if (rowCount !== 1) throw new Error(`the row of ${id} was not found`);
      const read = performance.now() - start;
      start = performance.now();
      const { rows } = await raw.query(`
        with u as (update floor_uploads set status = 'confirmed', size = $2, reserved = 0 where id = $1 and status = 'pending' and reserved = 1 returning id),
        q as (update floor_quotas set used_bytes = used_bytes + $2, reserved_bytes = reserved_bytes - $2, pending_count = pending_count - 1
              where subject = 'user:floor' and exists (select 1 from u)),
        e as (insert into floor_events select $3, u.id, $4, $5 from u)
        select id from u`, [id, OBJECT.length, `event-${id}`, JSON.stringify({ id, status: "confirmed" }), Date.now()]);
      if (rows.length !== 1) throw new Error(`the floor's commit confirmed ${rows.length} rows`);
      return { http, read, commit: performance.now() - start };
    };
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
    type Sample = {
      confirm: number[]; head: number[]; headGet: number[]; copy: number[];
      floor: number[]; floorParts: { http: number; read: number; commit: number }[];
    };
    const runs: Sample[] = [];
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
      const sample: Sample = { confirm: [], head: [], headGet: [], copy: [], floor: [], floorParts: [] };
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
        const parts = await floorMs(upload.id);
        sample.floorParts.push(parts);
        sample.floor.push(parts.http + parts.read + parts.commit);
      }
      if (!warm) {
        runs.push(sample);
        const p = (xs: number[], q: number) => percentile(xs, q).toFixed(1);
        progress(
          NAME,
          `run ${round}/${RUNS}: confirm p50 ${p(sample.confirm, 50)} ms p99 ${p(sample.confirm, 99)} ms; HEAD p50 ${p(sample.head, 50)} p99 ${p(sample.head, 99)}; ` +
          `HEAD+GET p50 ${p(sample.headGet, 50)} p99 ${p(sample.headGet, 99)}; CopyObject p50 ${p(sample.copy, 50)}; floor p50 ${p(sample.floor, 50)} ` +
          `(HTTP ${p(sample.floorParts.map((f) => f.http), 50)}, read ${p(sample.floorParts.map((f) => f.read), 50)}, commit ${p(sample.floorParts.map((f) => f.commit), 50)})`,
        );
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
      ...([50, 99] as const).map((q) => ({
        benchmark: "confirm (RGW + PostgreSQL)", metric: `p${q} floor: a bare HTTP request + the row read + one one-statement commit`, unit: "ms",
        stowage: m((r) => r.floor, q),
      })),
      ...([50, 99] as const).map((q) => ({
        benchmark: "confirm (RGW + PostgreSQL)", metric: `p${q} overhead beyond the store's round trips and that floor`, unit: "ms",
        stowage: (q === 50 ? confirmP50 : confirmP99) - m(ownTrips, q) - m((r) => r.floor, q),
      })),
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
    await raw.end();
    await bare?.proc.stop();
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

/**
 * Presign throughput and latency: `POST /v1/uploads` (JWT verify, policy, quota read, insert,
 * SigV4) on SQLite and on PostgreSQL, S3 storage on the RGW, against (a) a bare Fastify route
 * answering the same-size JSON to the same requests and (b) Uppy Companion's
 * `GET /s3/params` (standalone, NODE_ENV=production, S3 on the same RGW). 50 connections from
 * autocannon, requests spread over 200 users' tokens; then p99 at half of Stowage's own peak.
 * Stowage on SQLite runs twice, with metrics off and on (`STOWAGE_METRICS`, scraped every
 * second meanwhile), interleaved in the same rounds: what metrics cost a presign, as a ratio.
 * Stowage on PostgreSQL runs as the issue's goal names it: S3 signing, metrics and reservations
 * on. Every Stowage logs each request at info, the default. At half peak, beside the bare route,
 * the same route writing one plain row a request and recording one pending upload a request
 * through Stowage's own store (`bench/servers/bare-fastify.ts`, COMMIT / COMMIT_AS=store); the
 * servers' CPU a request is read from /proc at full load and at half peak. The store's writer also
 * runs at full load right after each of its Stowage server's runs (on SQLite, after the metrics-on
 * run beside it): the floor under the goals, set against Stowage, the bare route and Companion;
 * and at half peak, its p99 against the bare route's, both at Stowage's rate and at half of its
 * own peak, as the goal is set for Stowage. The bare route's own CPU a request is read at full
 * load and at Stowage's half-peak rate too: what a request costs this machine at a lower rate
 * with no work behind it.
 *
 *   npm run bench -- presign
 */
import { mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { autocannon, type LoadRequest, type LoadResult, loadProblem } from "./lib/autocannon.js";
import { startBare } from "./lib/bare.js";
import { tempPostgres } from "./lib/databases.js";
import { expectStatus, request } from "./lib/http.js";
import { answers, cpuMs, freePort, type Proc, startProcess } from "./lib/proc.js";
import { judge, main, output, progress } from "./lib/report.js";
import { s3Env, stowageS3Env, tempBucket } from "./lib/s3.js";
import { pinningNote, RUNS, SECONDS, SERVER_CPU, SMOKE, WARMUP_SECONDS } from "./lib/settings.js";
import { pacedLoad, type PacedResult } from "./lib/paced-load.js";
import { median } from "./lib/stats.js";
import { startStowage, type StowageServer } from "./lib/stowage.js";

const NAME = "presign";
const CONNECTIONS = 50;
const USERS = 200;
/** How often the metrics-on server is scraped while it is under load: 15× Prometheus' default. */
const SCRAPE_EVERY_MS = 1000;
const METRICS_ON = "Stowage SQLite, metrics on";
const VIA_LINK = "Stowage SQLite, through upload links";
/** `BENCH_BASELINE_ROOT=<another checkout>`: its Stowage on SQLite runs in the same rounds, for a before/after. */
const BASELINE_ROOT = process.env.BENCH_BASELINE_ROOT;
const BASELINE = "Stowage SQLite at BENCH_BASELINE_ROOT";
const BODY = JSON.stringify({ ownerType: "avatar", filename: "me.png", contentType: "image/png", size: 48213 });

interface Target {
  label: string;
  requests: LoadRequest[];
  /** Stowage's servers only: the process, and its CPU a request (µs) in each full-load and each half-peak run. */
  cpu?: { pid: number; full: number[]; half: number[] };
  runs: LoadResult[];
  halfRuns: PacedResult[];
  bareAtHalf: PacedResult[];
  /**
   * The bare route writing to this target's kind of database at the same half-peak rate: one
   * plain row a request, and one pending upload a request through Stowage's own store.
   */
  writers?: Writer[];
}

interface Writer {
  kind: "row" | "store";
  requests: LoadRequest[];
  pid: number;
  /** Its CPU a request (µs) in each half-peak run. */
  cpuHalf: number[];
  atHalf: PacedResult[];
  /** Its full-load req/s beside its Stowage server's warm-up (a fresh database: not judged). */
  warmUpBurst?: number;
  /** Its full-load req/s beside each of its Stowage server's runs: the throughput floor under that server. */
  bursts: number[];
  /** Its CPU a request (µs) in each of those bursts. */
  cpuFull: number[];
  /**
   * At half of its own peak (half the median of its bursts), as the goal is set for Stowage: its
   * runs, its CPU a request, and the bare route's runs at that same rate.
   */
  ownHalf: PacedResult[];
  cpuOwnHalf: number[];
  bareAtOwnHalf: PacedResult[];
}

const WRITER_NAMES: Record<Writer["kind"], string> = { row: "one row a request", store: "Stowage's store a request" };

/** Runs `load`; answers its result and the CPU process `pid` spent a request in it (µs; 0 without a pid or an answer). */
async function withCpu<R>(pid: number | undefined, load: () => Promise<R>, answered: (result: R) => number): Promise<[R, number]> {
  if (pid === undefined) return [await load(), 0];
  const before = cpuMs(pid);
  const result = await load();
  const requests = answered(result);
  return [result, requests > 0 ? ((cpuMs(pid) - before) * 1000) / requests : 0];
}
const cpuOf = (pid: number) => ({ pid, full: [], half: [] });

async function stowageRequests(server: StowageServer): Promise<LoadRequest[]> {
  const requests: LoadRequest[] = [];
  for (let i = 0; i < USERS; i++) {
    const token = await server.token(`user${String(i).padStart(4, "0")}`);
    requests.push({
      method: "POST",
      url: `${server.baseUrl}/v1/uploads`,
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: BODY,
    });
  }
  return requests;
}

/**
 * The same presigns made through upload links: one link per user, its token in place of the
 * JWT. Costs what a holder's request costs on top: the link looked up and its token checked,
 * and its uses counted under the link row's lock in the presign transaction.
 */
async function linkRequests(server: StowageServer): Promise<LoadRequest[]> {
  const requests: LoadRequest[] = [];
  for (let i = 0; i < USERS; i++) {
    const token = await server.token(`user${String(i).padStart(4, "0")}`);
    const made = await request(`${server.baseUrl}/v1/upload-links`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ ownerType: "avatar", expiresInSeconds: 3600, maxUses: 1000 }),
    });
    const link = JSON.parse(expectStatus(made, 201, "link").body.toString()) as { token: string };
    requests.push({
      method: "POST",
      url: `${server.baseUrl}/v1/uploads`,
      headers: { authorization: `UploadLink ${link.token}`, "content-type": "application/json" },
      body: BODY,
    });
  }
  return requests;
}

/** Companion as its README runs it standalone; `undefined` and a reason when it cannot start. */
async function startCompanion(bucket: string): Promise<{ proc: Proc; port: number; dir: string } | { reason: string }> {
  let bin: string;
  try {
    bin = join(createRequire(import.meta.url).resolve("@uppy/companion/package.json"), "../bin/companion");
  } catch (error) {
    return { reason: `@uppy/companion is not installed (${(error as Error).message.split("\n")[0]})` };
  }
  const s3 = s3Env();
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "companion-bench-"));
  try {
    const proc = await startProcess({
      name: "companion",
      command: process.execPath,
      args: [bin],
      cwd: dir,
      cpu: SERVER_CPU,
      env: {
        PATH: process.env.PATH ?? "",
        HOME: process.env.HOME ?? "/tmp",
        NODE_ENV: "production",
        NODE_NO_WARNINGS: "1",
        COMPANION_PORT: String(port),
        COMPANION_DOMAIN: `127.0.0.1:${port}`,
        COMPANION_PROTOCOL: "http",
        COMPANION_DATADIR: dir,
        COMPANION_SECRET: "bench-companion-secret-0123456789abcdef",
        COMPANION_PREAUTH_SECRET: "bench-companion-preauth-secret-0123456789",
        COMPANION_UPLOAD_URLS: "http://127\\.0\\.0\\.1:.*",
        COMPANION_CLIENT_ORIGINS: "true",
        COMPANION_AWS_KEY: s3.accessKeyId,
        COMPANION_AWS_SECRET: s3.secretAccessKey,
        COMPANION_AWS_BUCKET: bucket,
        COMPANION_AWS_REGION: s3.region,
        COMPANION_AWS_ENDPOINT: s3.endpoint,
        COMPANION_AWS_FORCE_PATH_STYLE: "true",
      },
      ready: () => answers(`http://127.0.0.1:${port}/`),
      timeoutMs: 60_000,
    });
    return { proc, port, dir };
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    return { reason: `Companion did not start: ${(error as Error).message.slice(0, 600)}` };
  }
}

async function run() {
  const out = output(NAME);
  const bucket = await tempBucket();
  // The second database is the bare route's own, for Stowage's store written without Stowage.
  const [pg, barePg] = await Promise.all([tempPostgres(), tempPostgres()]);
  const stops: (() => Promise<void>)[] = [() => bucket.drop(), () => pg.drop(), () => barePg.drop()];
  try {
    progress(NAME, "starting Stowage (SQLite, S3), Stowage (PostgreSQL, S3), Companion and the bare route");
    const companionStart = startCompanion(bucket.name);
    // Link limits off: 200 links × 1000 uses, and no per-link or per-address rate limit in the way.
    const noLinkLimits = { STOWAGE_LINK_RATE_LIMIT: "0", STOWAGE_LINK_ADDRESS_RATE_LIMIT: "0" };
    // Request logging at info, as `stowage serve` runs by default (one line a request, written
    // to the server's log file here); `presign-stages` times the line itself.
    const logged = { LOG_LEVEL: "info" };
    const [sqlite, postgres, sqliteMetrics, sqliteLinks, baseline] = await Promise.all([
      startStowage("presign-sqlite", { ...stowageS3Env(bucket.name), STOWAGE_METRICS: "off", ...logged }),
      startStowage("presign-postgres", { ...stowageS3Env(bucket.name), DATABASE_URL: pg.url, STOWAGE_METRICS: "on", ...logged }),
      startStowage("presign-sqlite-metrics", { ...stowageS3Env(bucket.name), STOWAGE_METRICS: "on", ...logged }),
      startStowage("presign-sqlite-links", { ...stowageS3Env(bucket.name), STOWAGE_METRICS: "off", ...noLinkLimits, ...logged }),
      BASELINE_ROOT === undefined
        ? undefined
        : startStowage("presign-sqlite-baseline", { ...stowageS3Env(bucket.name), STOWAGE_METRICS: "off", ...logged }, { root: BASELINE_ROOT }),
    ]);
    stops.unshift(() => sqlite.stop(), () => postgres.stop(), () => sqliteMetrics.stop(), () => sqliteLinks.stop());
    if (baseline !== undefined) stops.unshift(() => baseline.stop());
    const metricsUrl = `${sqliteMetrics.baseUrl}/metrics`;
    expectStatus(await request(metricsUrl), 200, "metrics probe");

    // The bare route answers exactly as many bytes as Stowage's real presign answer.
    const sqliteRequests = await stowageRequests(sqlite);
    const sample = sqliteRequests[0] as LoadRequest;
    const probe = expectStatus(await request(sample.url, { method: "POST", headers: sample.headers, body: BODY }), 201, "presign probe");
    const bare = await startBare(probe.body.length);
    stops.unshift(() => bare.proc.stop());
    const bareRequests = sqliteRequests.map((r) => ({ ...r, url: `${bare.baseUrl}/v1/uploads` }));
    // The same route with one durable write a request, on each database Stowage runs on here:
    // a plain row, and a pending upload through Stowage's own store (its schema, its batching).
    const commitDir = mkdtempSync(join(tmpdir(), "bare-commits-"));
    stops.push(() => Promise.resolve(rmSync(commitDir, { recursive: true, force: true })));
    const writing = await Promise.all([
      startBare(probe.body.length, `sqlite:${join(commitDir, "bare.db")}`),
      startBare(probe.body.length, `sqlite:${join(commitDir, "store.db")}`, "store"),
      startBare(probe.body.length, pg.url),
      startBare(probe.body.length, barePg.url, "store"),
    ]);
    stops.unshift(...writing.map((w) => () => w.proc.stop()));
    const [rowSqlite, storeSqlite, rowPostgres, storePostgres] = writing;
    const writer = (kind: Writer["kind"], bare: { baseUrl: string; proc: Proc }): Writer => ({
      kind, requests: sqliteRequests.map((r) => ({ ...r, url: `${bare.baseUrl}/v1/uploads` })), pid: bare.proc.pid, cpuHalf: [], atHalf: [], bursts: [],
      cpuFull: [], ownHalf: [], cpuOwnHalf: [], bareAtOwnHalf: [],
    });

    const targets: Target[] = [
      // Its CPU too: what a request costs the machine at full load and at a lower rate, with no work behind it.
      { label: "bare Fastify", requests: bareRequests, runs: [], halfRuns: [], bareAtHalf: [], cpu: cpuOf(bare.proc.pid) },
      {
        label: "Stowage SQLite", requests: sqliteRequests, runs: [], halfRuns: [], bareAtHalf: [],
        cpu: cpuOf(sqlite.proc.pid), writers: [writer("row", rowSqlite), writer("store", storeSqlite)],
      },
      // Its CPU a presign as well: req/s at full load swings ±20 % from run to run on this VM, the CPU far less.
      {
        label: METRICS_ON, requests: await stowageRequests(sqliteMetrics), runs: [], halfRuns: [], bareAtHalf: [],
        cpu: cpuOf(sqliteMetrics.proc.pid),
      },
      {
        label: "Stowage PostgreSQL", requests: await stowageRequests(postgres), runs: [], halfRuns: [], bareAtHalf: [],
        cpu: cpuOf(postgres.proc.pid), writers: [writer("row", rowPostgres), writer("store", storePostgres)],
      },
      { label: VIA_LINK, requests: await linkRequests(sqliteLinks), runs: [], halfRuns: [], bareAtHalf: [] },
      ...(baseline === undefined
        ? []
        : [{
            label: BASELINE, requests: await stowageRequests(baseline), runs: [], halfRuns: [], bareAtHalf: [],
            cpu: cpuOf(baseline.proc.pid),
          }]),
    ];
    const companion = await companionStart;
    if ("reason" in companion) {
      out.skipped.push(`baseline (b) Uppy Companion: ${companion.reason}`);
    } else {
      stops.unshift(async () => {
        await companion.proc.stop(3000);
        rmSync(companion.dir, { recursive: true, force: true });
      });
      const url = `http://127.0.0.1:${companion.port}/s3/params?filename=me.png&type=image%2Fpng`;
      targets.push({ label: "Companion", requests: [{ method: "GET", url, headers: {} }], runs: [], halfRuns: [], bareAtHalf: [] });
    }

    // The bare route's writes get the same full-load history as the Stowage server they stand
    // beside, at the same places in the rounds: the half-peak p99s then compare databases that
    // have just taken bursts of the same length.
    const withWrites = async (target: Target, seconds: number, warmUp = false) => {
      if (SMOKE) return;
      for (const w of target.writers ?? []) {
        const burst = () => autocannon({ requests: w.requests, connections: CONNECTIONS, seconds });
        const [{ rps }, cpuUs] = await withCpu(w.pid, burst, (r) => r.rps * r.seconds);
        if (warmUp) {
          w.warmUpBurst = rps;
        } else {
          w.bursts.push(rps);
          w.cpuFull.push(cpuUs);
        }
      }
    };
    for (const target of SMOKE ? [] : targets) {
      progress(NAME, `warm-up ${target.label} (${WARMUP_SECONDS} s)`);
      await autocannon({ requests: target.requests, connections: CONNECTIONS, seconds: WARMUP_SECONDS });
      await withWrites(target, WARMUP_SECONDS, true);
    }
    // Rounds interleave the targets, so a burst of someone else's load hits all of them alike.
    // The two SQLite servers share the server core, and the one that ran just before leaves
    // work behind (GC, WAL checkpoints): metrics off and on swap places every other round.
    const swapped = (round: number) => {
      if (round % 2 === 1) return targets;
      const order = [...targets];
      const on = order.findIndex((t) => t.label === METRICS_ON);
      [order[on - 1], order[on]] = [order[on] as Target, order[on - 1] as Target];
      return order;
    };
    // Metrics off and on run back to back, and the off server's writers only after both: their
    // bursts leave the disk busy (checkpoints, writeback) for whichever server runs next, and
    // with an odd number of rounds the one that follows them twice came out ~15 % slower.
    const pair = ["Stowage SQLite", METRICS_ON];
    for (let round = 1; round <= RUNS; round++) {
      const deferred: Target[] = [];
      for (const target of swapped(round)) {
        // The metrics-on server is scraped while it serves, as Prometheus would (more often).
        const scrape = () => void request(metricsUrl).catch(() => undefined);
        const scraper = target.label === METRICS_ON ? setInterval(scrape, SCRAPE_EVERY_MS) : undefined;
        const load = () =>
          autocannon({ requests: target.requests, connections: CONNECTIONS, seconds: SECONDS }).finally(() => clearInterval(scraper));
        const [result, cpuUs] = await withCpu(target.cpu?.pid, load, (r) => r.rps * r.seconds);
        target.cpu?.full.push(cpuUs);
        const problem = loadProblem(`${target.label} run ${round}`, result);
        if (problem !== undefined) out.failures.push(problem);
        target.runs.push(result);
        progress(NAME, `run ${round}/${RUNS} ${target.label}: ${result.rps.toFixed(0)} req/s, p50 ${result.p50} ms, p99 ${result.p99} ms`);
        deferred.push(target);
        const firstOfPair = pair.includes(target.label) && deferred.filter((t) => pair.includes(t.label)).length === 1;
        if (firstOfPair) continue;
        for (const done of deferred.splice(0)) await withWrites(done, SECONDS);
      }
    }
    const peak = (t: Target) => median(t.runs.map((r) => r.rps));
    const baselineTarget = targets.find((t) => t.label === BASELINE);
    const [bareTarget, ...rest] = targets as [Target, ...Target[]];
    const extras = [METRICS_ON, VIA_LINK, BASELINE];
    const stowageTargets = rest.filter((t) => t.label.startsWith("Stowage") && !extras.includes(t.label));
    for (let round = 1; round <= RUNS; round++) {
      for (const target of stowageTargets) {
        const rate = peak(target) / 2;
        const paced = (t: { requests: LoadRequest[] }) => () =>
          pacedLoad({ requests: t.requests, connections: CONNECTIONS, seconds: SECONDS, rate });
        const [result, cpuUs] = await withCpu(target.cpu?.pid, paced(target), (r) => r.ok);
        target.cpu?.half.push(cpuUs);
        // The before/after tree at the same rate, right after this tree's SQLite server.
        const before = target.label === "Stowage SQLite" ? baselineTarget : undefined;
        if (before?.cpu !== undefined) {
          const [beforeResult, beforeUs] = await withCpu(before.cpu.pid, paced(before), (r) => r.ok);
          before.cpu.half.push(beforeUs);
          before.halfRuns.push(beforeResult);
          const line = `p99 ${beforeResult.p99.toFixed(1)} ms, ${beforeUs.toFixed(0)} µs CPU a request`;
          progress(NAME, `half-peak run ${round}/${RUNS} ${BASELINE} at ${rate.toFixed(0)} req/s: ${line}`);
        }
        if (result.failed > 0) out.failures.push(`${target.label} half-peak run ${round}: ${result.failed} of ${result.sent} requests failed or were not 2xx`);
        target.halfRuns.push(result);
        // The bare route at the same offered rate: what the machine's own noise does to p99.
        const bareResult = SMOKE ? undefined : await withCpu(bareTarget.cpu?.pid, paced(bareTarget), (r) => r.ok);
        if (bareResult !== undefined) {
          target.bareAtHalf.push(bareResult[0]);
          if (target.label === "Stowage SQLite") bareTarget.cpu?.half.push(bareResult[1]);
        }
        // And with a durable write a request: what the database's commits alone do to p99.
        const written: string[] = [];
        for (const w of target.writers ?? []) {
          const [writeResult, writeUs] = await withCpu(w.pid, paced(w), (r) => r.ok);
          w.cpuHalf.push(writeUs);
          if (writeResult.failed > 0) {
            out.failures.push(`bare route + ${WRITER_NAMES[w.kind]} for ${target.label}, half-peak run ${round}: ${writeResult.failed} requests failed`);
          }
          w.atHalf.push(writeResult);
          written.push(`with ${WRITER_NAMES[w.kind]}: ${writeResult.p99.toFixed(1)} ms, ${writeUs.toFixed(0)} µs CPU a request`);
        }
        progress(
          NAME,
          `half-peak run ${round}/${RUNS} ${target.label} at ${rate.toFixed(0)} req/s: p99 ${result.p99.toFixed(1)} ms, ` +
          `${target.cpu === undefined ? "?" : cpuUs.toFixed(0)} µs CPU a request ` +
          `(bare route at the same rate: ${[`${bareResult?.[0].p99.toFixed(1) ?? "not run in a smoke"} ms`, ...written].join("; ")})`,
        );
        // The floor as the goal is set for Stowage: at half of its own peak, against the bare route at that rate.
        const floor = target.writers?.find((w) => w.kind === "store");
        if (floor !== undefined && floor.bursts.length > 0) {
          const floorRate = median(floor.bursts) / 2;
          const pacedAt = (t: { requests: LoadRequest[] }) => () =>
            pacedLoad({ requests: t.requests, connections: CONNECTIONS, seconds: SECONDS, rate: floorRate });
          const [floorResult, floorUs] = await withCpu(floor.pid, pacedAt(floor), (r) => r.ok);
          if (floorResult.failed > 0) out.failures.push(`the floor for ${target.label} at half of its own peak, run ${round}: ${floorResult.failed} requests failed`);
          floor.ownHalf.push(floorResult);
          floor.cpuOwnHalf.push(floorUs);
          const bareAtFloor = await pacedAt(bareTarget)();
          floor.bareAtOwnHalf.push(bareAtFloor);
          progress(
            NAME,
            `half-peak run ${round}/${RUNS} the floor under ${target.label} at half of its own peak, ${floorRate.toFixed(0)} req/s: ` +
            `p99 ${floorResult.p99.toFixed(1)} ms, ${floorUs.toFixed(0)} µs CPU a request (bare route at the same rate: ${bareAtFloor.p99.toFixed(1)} ms)`,
          );
        }
      }
    }

    const metricsOn = targets.find((t) => t.label === METRICS_ON) as Target;
    const metricsOff = targets.find((t) => t.label === "Stowage SQLite") as Target;
    out.rows.push({
      benchmark: "presign SQLite, metrics on vs off", metric: `req/s @${CONNECTIONS} conns`, unit: "req/s", stowage: peak(metricsOn),
      baseline: peak(metricsOff), baselineName: "metrics off", ratio: peak(metricsOn) / peak(metricsOff),
      target: "≥ 95 % (metrics cost ≤ 5 %)", met: judge(peak(metricsOn) / peak(metricsOff) >= 0.95),
    });
    const [cpuOn, cpuOff] = [median(metricsOn.cpu?.full ?? []), median(metricsOff.cpu?.full ?? [])];
    if (cpuOn > 0 && cpuOff > 0) {
      out.rows.push({
        benchmark: "presign SQLite, metrics on vs off", metric: "server CPU a presign (µs), at full load", unit: "µs", stowage: cpuOn,
        baseline: cpuOff, baselineName: "metrics off", ratio: cpuOn / cpuOff,
      });
    }
    const viaLink = targets.find((t) => t.label === VIA_LINK) as Target;
    out.rows.push({
      benchmark: "presign SQLite, through upload links vs bearer", metric: `req/s @${CONNECTIONS} conns`, unit: "req/s", stowage: peak(viaLink),
      baseline: peak(metricsOff), baselineName: "bearer JWT", ratio: peak(viaLink) / peak(metricsOff),
    });
    if (baselineTarget !== undefined) {
      out.rows.push({
        benchmark: "presign SQLite, this tree vs BENCH_BASELINE_ROOT", metric: `req/s @${CONNECTIONS} conns`, unit: "req/s", stowage: peak(metricsOff),
        baseline: peak(baselineTarget), baselineName: "baseline tree", ratio: peak(metricsOff) / peak(baselineTarget),
      });
      if (baselineTarget.halfRuns.length > 0) {
        const p99 = (t: Target) => median(t.halfRuns.map((r) => r.p99));
        out.rows.push({
          benchmark: "presign SQLite, this tree vs BENCH_BASELINE_ROOT", metric: "p99 @ half peak (this tree's)", unit: "ms", stowage: p99(metricsOff),
          baseline: p99(baselineTarget), baselineName: "baseline tree", ratio: p99(metricsOff) / p99(baselineTarget),
        });
        const cpu = (t: Target) => median(t.cpu?.half ?? []);
        out.rows.push({
          benchmark: "presign SQLite, this tree vs BENCH_BASELINE_ROOT", metric: "server CPU a presign (µs), at half peak", unit: "µs", stowage: cpu(metricsOff),
          baseline: cpu(baselineTarget), baselineName: "baseline tree", ratio: cpu(metricsOff) / cpu(baselineTarget),
        });
      }
      out.notes.push(`baseline tree: ${BASELINE_ROOT ?? ""}, same bucket, same requests, in the same interleaved rounds (and at half peak right after this tree's SQLite server, at its rate)`);
    }
    // One scrape, idle, after the load: every series the runs created (a scraper's view of its cost).
    const scrapes: number[] = [];
    let exposition = 0;
    for (let i = 0; i < 20; i++) {
      const started = performance.now();
      exposition = expectStatus(await request(metricsUrl), 200, "scrape").body.length;
      scrapes.push(performance.now() - started);
    }
    out.rows.push({ benchmark: "presign SQLite, metrics on", metric: `GET /metrics, idle (${exposition} bytes)`, unit: "ms", stowage: median(scrapes) });

    const companionTarget = targets.find((t) => t.label === "Companion");
    const companionRps = companionTarget === undefined ? undefined : peak(companionTarget);
    const bareRps = peak(bareTarget);
    /** The throughput goals' rows, for a Stowage server or for the floor under it (`floor`: said in the target). */
    const throughputGoals = (benchmark: string, rps: number, floor = false) => {
      const when = floor ? ", if the goal can be met above it" : "";
      const metric = `req/s @${CONNECTIONS} conns`;
      out.rows.push({
        benchmark, metric, unit: "req/s", stowage: rps, baseline: bareRps, baselineName: "bare Fastify",
        ratio: rps / bareRps, target: `≥ 40 % of bare${when}`, met: judge(rps / bareRps >= 0.4),
      });
      if (companionRps === undefined) return;
      out.rows.push({
        benchmark, metric, unit: "req/s", stowage: rps, baseline: companionRps, baselineName: "Companion",
        ratio: rps / companionRps, target: `≥ 20× Companion${when}`, met: judge(rps / companionRps >= 20),
      });
    };
    for (const target of stowageTargets) {
      const db = target.label.replace("Stowage ", "");
      const bench = `presign ${db}`;
      const rps = peak(target);
      const p = <R>(f: (r: R) => number, runs: R[]) => median(runs.map(f));
      throughputGoals(bench, rps);
      // The floor under those goals: the bare route recording each request through Stowage's own
      // store (nothing else of Stowage), at full load right after each of this server's runs.
      const floor = target.writers?.find((w) => w.kind === "store");
      if (floor !== undefined && floor.bursts.length > 0) {
        const floorRps = median(floor.bursts);
        out.rows.push({
          benchmark: bench, metric: `req/s @${CONNECTIONS} conns`, unit: "req/s", stowage: rps, baseline: floorRps,
          baselineName: "bare + Stowage's store", ratio: rps / floorRps,
        });
        throughputGoals(`${bench}: the floor (bare + Stowage's store)`, floorRps, true);
      }
      for (const pct of ["p50", "p99"] as const) {
        out.rows.push({
          benchmark: bench, metric: `${pct} latency @${CONNECTIONS} conns`, unit: "ms", stowage: p((r) => r[pct], target.runs),
          baseline: p((r) => r[pct], bareTarget.runs), baselineName: "bare Fastify", ratio: p((r) => r[pct], target.runs) / p((r) => r[pct], bareTarget.runs),
        });
      }
      const halfP99 = p((r: PacedResult) => r.p99, target.halfRuns);
      const bareHalfP99 = p((r: PacedResult) => r.p99, target.bareAtHalf);
      out.rows.push({
        benchmark: bench, metric: `p99 @ half peak (${(rps / 2).toFixed(0)} req/s)`, unit: "ms", stowage: halfP99,
        ...(target.bareAtHalf.length === 0
          ? {}
          : { baseline: bareHalfP99, baselineName: "bare, same rate", ratio: halfP99 / bareHalfP99, target: "≤ 2× bare at the same rate", met: judge(halfP99 <= 2 * bareHalfP99) }),
      });
      const cpuHalf = median(target.cpu?.half ?? []);
      const cpuRow = (baseline: number, baselineName: string) => out.rows.push({
        benchmark: bench, metric: "server CPU a presign (µs), at half peak", unit: "µs", stowage: cpuHalf, baseline, baselineName, ratio: cpuHalf / baseline,
      });
      // At half of peak each request should cost what it does at peak; batches shrink, so it costs more.
      if (target.cpu !== undefined && target.cpu.half.length > 0 && target.cpu.full.length > 0) cpuRow(median(target.cpu.full), "at full load");
      for (const w of target.writers ?? []) {
        if (w.kind === "store" && w.cpuHalf.length > 0 && (target.cpu?.half.length ?? 0) > 0) cpuRow(median(w.cpuHalf), "bare + Stowage's store");
        if (w.atHalf.length === 0) continue;
        const writeHalfP99 = p((r: PacedResult) => r.p99, w.atHalf);
        out.rows.push({
          benchmark: bench, metric: `p99 @ half peak (${(rps / 2).toFixed(0)} req/s), against the bare route writing ${WRITER_NAMES[w.kind]}`, unit: "ms",
          stowage: halfP99, baseline: writeHalfP99, baselineName: `bare + ${w.kind === "row" ? "1 row" : "Stowage's store"}, same rate`, ratio: halfP99 / writeHalfP99,
        });
        // The floor under the p99 goal, as under the throughput goal: the store alone against the bare route.
        if (w.kind === "store" && target.bareAtHalf.length > 0) {
          out.rows.push({
            benchmark: `${bench}: the floor (bare + Stowage's store)`, metric: `p99 @ Stowage's half peak (${(rps / 2).toFixed(0)} req/s)`, unit: "ms",
            stowage: writeHalfP99, baseline: bareHalfP99, baselineName: "bare, same rate", ratio: writeHalfP99 / bareHalfP99,
          });
        }
      }
      // The goal is set at half of a server's own peak: the floor measured the same way is the floor under it.
      if (floor !== undefined && floor.ownHalf.length > 0) {
        const floorBench = `${bench}: the floor (bare + Stowage's store)`;
        const floorRate = median(floor.bursts) / 2;
        const floorP99 = p((r: PacedResult) => r.p99, floor.ownHalf);
        const bareP99 = p((r: PacedResult) => r.p99, floor.bareAtOwnHalf);
        out.rows.push({
          benchmark: floorBench, metric: `p99 @ half of its own peak (${floorRate.toFixed(0)} req/s)`, unit: "ms", stowage: floorP99,
          baseline: bareP99, baselineName: "bare, same rate", ratio: floorP99 / bareP99,
          target: "≤ 2× bare, if the goal can be met above it", met: judge(floorP99 <= 2 * bareP99),
        });
        const floorCpuHalf = median(floor.cpuOwnHalf);
        out.rows.push({
          benchmark: floorBench, metric: "server CPU a request (µs), at half of its own peak", unit: "µs", stowage: floorCpuHalf,
          baseline: median(floor.cpuFull), baselineName: "at full load", ratio: floorCpuHalf / median(floor.cpuFull),
        });
        // How busy each server's core is at half of its own peak: what its p99 there is made of.
        if (cpuHalf > 0) {
          const busy = (cpuUs: number, rate: number) => (cpuUs * rate) / 1e4;
          const stowageBusy = busy(cpuHalf, rps / 2);
          const floorBusy = busy(floorCpuHalf, floorRate);
          out.rows.push({
            benchmark: bench, metric: "server core busy at half of its own peak (CPU a request × rate)", unit: "%", stowage: stowageBusy,
            baseline: floorBusy, baselineName: "the floor at half of its own peak", ratio: stowageBusy / floorBusy,
          });
        }
      }
    }
    // On this VM a request costs more at a lower rate, with no work behind it too (fewer requests share each wake-up).
    if (bareTarget.cpu !== undefined && bareTarget.cpu.half.length > 0 && bareTarget.cpu.full.length > 0) {
      const [half, full] = [median(bareTarget.cpu.half), median(bareTarget.cpu.full)];
      const rate = peak(stowageTargets[0] as Target) / 2;
      out.rows.push({
        benchmark: "bare Fastify", metric: `server CPU a request (µs), at ${rate.toFixed(0)} req/s (Stowage SQLite's half peak)`, unit: "µs",
        stowage: half, baseline: full, baselineName: "at full load", ratio: half / full,
      });
    }
    if (companionTarget !== undefined) {
      out.notes.push(
        `Companion GET /s3/params (createPresignedPost, no auth/db/quota): ${peak(companionTarget).toFixed(0)} req/s, ` +
        `p50 ${median(companionTarget.runs.map((r) => r.p50))} ms, p99 ${median(companionTarget.runs.map((r) => r.p99))} ms at ${CONNECTIONS} connections ` +
        "(standalone defaults: morgan access log to a file, Prometheus metrics on)",
      );
    }
    out.notes.push(
      `presign: ${CONNECTIONS} connections, ${RUNS} run(s) of ${SECONDS} s after ${SMOKE ? "no" : `${WARMUP_SECONDS} s`} warm-up, median; requests rotate over ${USERS} users' tokens; ` +
      `avatar image/png, S3 storage on the RGW (signing only, no S3 call); the bare route gets the same requests and answers ${probe.body.length} bytes like Stowage; ` +
      `autocannon latencies are whole ms; ` +
      `Stowage SQLite ran twice, STOWAGE_METRICS=off and =on, in the same interleaved rounds (the two swap places every other round); the metrics-on server was scraped every ${SCRAPE_EVERY_MS} ms during its runs; ` +
      `p99 at half peak from an open-loop paced generator (bench/lib/paced-load.ts: evenly spaced requests over up to ${CONNECTIONS} keep-alive sockets, ` +
      "latency from the scheduled send time), not autocannon --overallRate (it bursts each second's quota and its coordinated-omission correction assumes a 1 ms interval); " +
      "beside it, the bare route writing to the same kind of database (bench/servers/bare-fastify.ts, COMMIT): one ~500-byte row a request, unbatched; " +
      "and one pending upload a request through Stowage's own store (COMMIT_AS=store: the uploads table with all its indexes and the quota reservation, " +
      "batched per event-loop turn as stowage serve does, in a database of its own); each run at full load right after each run of its Stowage server " +
      "(on SQLite, after the metrics-on run beside it), " +
      "as long, so the databases have the same recent history; the store's runs are the throughput floor the presign rows compare with " +
      "(req/s, the first beside the warm-up and not judged: " +
      `${stowageTargets.map((t) => `${t.label}'s: ${(t.writers ?? []).map((w) => `${w.kind} ${[w.warmUpBurst, ...w.bursts].filter((r) => r !== undefined).map((r) => r.toFixed(0)).join(", ") || "none"}`).join(", ")} req/s`).join("; ")}); ` +
      `${pinningNote()}${SMOKE ? "; SMOKE run" : ""}`,
    );
    out.raw = Object.fromEntries(targets.map((t) => [
      t.label,
      {
        runs: t.runs, halfPeak: t.halfRuns, bareAtHalfPeak: t.bareAtHalf,
        cpuUsPerRequest: { fullLoad: t.cpu?.full, halfPeak: t.cpu?.half },
        writers: (t.writers ?? []).map((w) => ({
          kind: w.kind, atHalfPeak: w.atHalf, cpuUsAtHalfPeak: w.cpuHalf, warmUpBurst: w.warmUpBurst,
          bursts: w.bursts, cpuUsInBursts: w.cpuFull,
          atOwnHalfPeak: w.ownHalf, cpuUsAtOwnHalfPeak: w.cpuOwnHalf, bareAtOwnHalfPeak: w.bareAtOwnHalf,
        })),
      },
    ]));
  } finally {
    for (const stop of stops) await stop().catch((error: unknown) => progress(NAME, `cleanup: ${String(error)}`));
  }
  return out;
}

await main(import.meta.url, run);

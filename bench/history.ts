/**
 * History at scale (issue 15, item 3), on PostgreSQL: a table of `BENCH_HISTORY_ROWS` uploads
 * (default 20 000 000; 20 000 in a smoke), nine in ten finished, made with `generate_series`
 * (`lib/history-rows.ts`) with one settled outbox event each, against an empty table in the same
 * run. Measured in process through the store, the database part of each path:
 * - presign (`createUpload`: reservation + insert), confirm (`confirmUpload`) and the caller's
 *   list (`listUploads`, 50 newest; the caller `user0` has its share of the history), each
 *   `OPS` times one after another, median latency;
 * - the purge: the history, outbox and links jobs over the rows finished more than 30 days ago
 *   (half the 60 days the rows span), upload rows purged per second (their events with them);
 * - a sweep run (every job but `missing`) once the purge has caught up, against one on the empty table.
 * Target: each path within 1.2× of the empty table; the purge ≥ 1 000 uploads/s.
 *
 *   BENCH_HISTORY_ROWS=200000 npm run bench -- history
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig } from "../src/config/load.js";
import { storageFromConfig } from "../src/storage/from-config.js";
import { openStore } from "../src/store/open.js";
import type { QuotaCharge } from "../src/store/quota.js";
import type { MetadataStore } from "../src/store/store.js";
import { SWEEP_JOBS } from "../src/sweeper/events.js";
import { sweep, type SweepReport, sweepSettings } from "../src/sweeper/run.js";
import type { NewUpload, UploadRecord } from "../src/uploads/record.js";
import { newUploadId } from "../src/uploads/upload-id.js";
import { tempPostgres } from "./lib/databases.js";
import { seedHistory } from "./lib/history-rows.js";
import { judge, main, output, progress } from "./lib/report.js";
import { SMOKE } from "./lib/settings.js";
import { median, percentile } from "./lib/stats.js";

const NAME = "history";
const ROWS = Math.max(1000, Math.floor(Number(process.env.BENCH_HISTORY_ROWS) || (SMOKE ? 20_000 : 20_000_000)));
const OPS = SMOKE ? 100 : 1000;
/** The paths are timed in this many rounds per table, the tables alternating. */
const ROUNDS = 4;
const SPAN_DAYS = 60;
const WINDOW_DAYS = 30;
const CALLER = "user0";
/**
 * Every job but `missing`: it HEADs confirmed uploads (up to STOWAGE_SWEEP_MISSING_PER_RUN a
 * run), a cost of the live uploads by design, and the seeded rows have no objects, so it would
 * measure expiring them instead.
 */
const CAUGHT_UP_JOBS = SWEEP_JOBS.filter((job) => job !== "missing");
const CHARGE: QuotaCharge = { subject: `user:${CALLER}`, defaultLimitBytes: 1e15, maxPending: 1e9 };

interface Paths {
  presign: number[];
  confirm: number[];
  list: number[];
}
const PATHS = ["presign", "confirm", "list"] as const;
const noTimes = (): Paths => ({ presign: [], confirm: [], list: [] });

function upload(): NewUpload {
  const id = newUploadId();
  const now = new Date();
  return {
    id, userId: CALLER, orgId: undefined, ownerType: "document", ownerId: undefined, bucket: "private", key: `documents/${CALLER}/${id}.pdf`,
    staging: { bucket: "private", key: `staging/${id}` }, method: "put", filename: "report.pdf", contentType: "application/pdf",
    declaredSize: 48213, createdAt: now, expiresAt: new Date(now.getTime() + 300_000), multipart: undefined,
  };
}

/** `ops` presigns, their confirms, and `ops` list reads, one at a time, added to `times` (milliseconds each). */
async function paths(store: MetadataStore, ops: number, times: Paths): Promise<void> {
  const made: UploadRecord[] = [];
  for (let i = 0; i < ops; i++) {
    const start = performance.now();
    const outcome = await store.createUpload({ upload: upload(), reserve: [CHARGE], now: new Date() });
    times.presign.push(performance.now() - start);
    if (outcome.kind !== "created") throw new Error(`presign refused: ${outcome.kind}`);
    made.push(outcome.upload);
  }
  for (const u of made) {
    const start = performance.now();
    const outcome = await store.confirmUpload({ id: u.id, from: ["pending"], size: 48213, etag: "\"e\"", charges: [CHARGE], now: new Date() });
    times.confirm.push(performance.now() - start);
    if (outcome.kind !== "confirmed") throw new Error(`confirm failed: ${outcome.kind}`);
  }
  for (let i = 0; i < ops; i++) {
    const start = performance.now();
    await store.listUploads({ userId: CALLER, limit: 50 });
    times.list.push(performance.now() - start);
  }
}

async function run() {
  const out = output(NAME);
  const dataDir = mkdtempSync(join(tmpdir(), "history-bench-"));
  const [empty, full] = await Promise.all([tempPostgres(), tempPostgres()]);
  const stores: MetadataStore[] = [];
  try {
    const open = async (url: string) => {
      const store = openStore({ kind: "postgres", url });
      stores.push(store);
      await store.migrate();
      return store;
    };
    const sweepOnce = (store: MetadataStore) => sweep({ ...settings, store: store.sweeper, jobs: CAUGHT_UP_JOBS });
    const config = loadConfig({ STOWAGE_DATA_DIR: dataDir, LOG_LEVEL: "warn" });
    const { driver } = storageFromConfig(config);
    const settings = { ...sweepSettings(config), driver, historyDays: WINDOW_DAYS };

    const emptyStore = await open(empty.url);
    const fullStore = await open(full.url);
    const t0 = performance.now();
    // One clock for the seed's count and the purge: rows keep crossing the window's edge as time
    // passes (a 2 M-row seed over 60 days crosses it every few seconds).
    const seededAt = new Date();
    const seed = { spanDays: SPAN_DAYS, windowDays: WINDOW_DAYS, now: seededAt.getTime(), events: true };
    const purgeable = await seedHistory(full.url, ROWS, seed);
    progress(NAME, `seeded ${ROWS.toLocaleString("en-US")} rows (+ one event and delivery each) in ${((performance.now() - t0) / 1000).toFixed(1)} s; ${purgeable} to purge`);

    // Both tables are timed after the seed, in interleaved rounds (each side first in turn). A
    // 20 M-row seed takes ~25 min, and an empty table timed before it was timed on what is in effect
    // another machine: so timed, presign read ×1.47; timed back to back after the seed, ×0.84–1.05.
    // Each round's times per path and side: a ratio missed in one round reads apart from one missed in all.
    const rounds: { empty: Paths; full: Paths }[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const own = { empty: noTimes(), full: noTimes() };
      const sides: [MetadataStore, Paths][] = [[emptyStore, own.empty], [fullStore, own.full]];
      for (const [store, times] of round % 2 === 0 ? sides : sides.reverse()) await paths(store, OPS / ROUNDS, times);
      rounds.push(own);
    }
    const allRounds = (side: "empty" | "full") => {
      const all = noTimes();
      for (const path of PATHS) all[path] = rounds.flatMap((r) => r[side][path]);
      return all;
    };
    const emptyPaths = allRounds("empty");
    const fullPaths = allRounds("full");
    const perRound = Object.fromEntries(PATHS.map((path) => [path, rounds.map((r) => ({
      empty: Number(median(r.empty[path]).toFixed(3)), full: Number(median(r.full[path]).toFixed(3)),
    }))]));
    for (const path of PATHS) {
      progress(NAME, `${path} median per round, full / empty (ms): ${perRound[path]?.map((r) => `${r.full} / ${r.empty}`).join(", ")}`);
    }
    progress(NAME, `presign median: empty table ${median(emptyPaths.presign).toFixed(2)} ms, full ${median(fullPaths.presign).toFixed(2)} ms`);

    const purge = await sweep({ ...settings, store: fullStore.sweeper, jobs: ["history", "outbox", "links"], now: seededAt });
    const purged = purge.jobs.history.counts.purged ?? 0;
    const purgedEvents = purge.jobs.outbox.counts.purged ?? 0;
    const purgeSeconds = purge.durationMs / 1000;
    if (purged !== purgeable) out.failures.push(`the purge took ${purged} rows of the ${purgeable} finished before the window`);
    progress(NAME, `purged ${purged} rows and ${purgedEvents} events in ${purgeSeconds.toFixed(1)} s`);
    // The first run after a big purge reads the index entries of the rows just deleted (until
    // autovacuum removes them); reported apart, and the median of the next three judged, each
    // beside one on the empty table.
    const firstAfterPurge = await sweepOnce(fullStore);
    const emptySweeps = [];
    const fullSweeps = [];
    for (let i = 0; i < 3; i++) {
      emptySweeps.push(await sweepOnce(emptyStore));
      fullSweeps.push(await sweepOnce(fullStore));
    }
    const caughtUp = { first: firstAfterPurge, rest: fullSweeps };
    // Per job, the median of each side's three runs: where a slower caught-up sweep spends it.
    const jobMedians = (reports: readonly SweepReport[]) =>
      Object.fromEntries(CAUGHT_UP_JOBS.map((job) => [job, median(reports.map((r) => r.jobs[job].durationMs))]));
    const perJob = { empty: jobMedians(emptySweeps), full: jobMedians(fullSweeps) };
    progress(NAME, `caught-up sweep per job, median ms (empty / full): ${CAUGHT_UP_JOBS.map((j) => `${j} ${perJob.empty[j]} / ${perJob.full[j]}`).join(", ")}`);
    const emptySweep = { durationMs: median(emptySweeps.map((r) => r.durationMs)) };
    const fullSweep = { durationMs: median(fullSweeps.map((r) => r.durationMs)) };
    for (const [label, report] of [...[...emptySweeps, caughtUp.first, ...caughtUp.rest].map((r) => ["sweep", r] as const), ["purge", purge] as const]) {
      for (const [job, r] of Object.entries(report.jobs)) if (r.failure !== undefined) out.failures.push(`${label} sweep: ${job} failed: ${r.failure}`);
    }

    const bench = `history, ${ROWS.toLocaleString("en-US")} rows (PostgreSQL)`;
    for (const path of PATHS) {
      const full = median(fullPaths[path]);
      const base = median(emptyPaths[path]);
      const what = path === "list" ? "the caller's list (50 newest)" : path;
      out.rows.push({
        benchmark: bench, metric: `${what}, median (store only)`, unit: "ms", stowage: full, baseline: base, baselineName: "empty table",
        ratio: full / base, target: "≤ ×1.2", met: judge(full / base <= 1.2),
      });
    }
    out.rows.push(
      {
        benchmark: bench, metric: "sweep run once caught up (all jobs but missing), median of 3", unit: "ms", stowage: fullSweep.durationMs, baseline: emptySweep.durationMs,
        baselineName: "empty table", ratio: fullSweep.durationMs / Math.max(1, emptySweep.durationMs), target: "≤ ×1.2",
        met: judge(fullSweep.durationMs / Math.max(1, emptySweep.durationMs) <= 1.2),
      },
      {
        benchmark: bench, metric: "purge: finished uploads per second (with their events)", unit: "/s", stowage: purged / purgeSeconds,
        target: "≥ 1,000/s", met: judge(purged / purgeSeconds >= 1000),
      },
    );
    out.notes.push(
      `history: ${ROWS} rows by generate_series over ${SPAN_DAYS} days (9 in 10 finished, one settled event each), window ${WINDOW_DAYS} days; ` +
      `${OPS} presigns, confirms and lists one at a time through the store (no HTTP, no signing) against a fresh empty database in the same run, ` +
      `both after the seed, in ${ROUNDS} interleaved rounds; ` +
      `the purge is one sweep of the history, outbox and links jobs (batches of 1000); the caught-up sweep runs every job but missing (which HEADs live uploads, and the seeded ones have no objects) on local disk, median of 3 runs after a first one (${caughtUp.first.durationMs} ms: it reads the purged rows' index entries until autovacuum removes them); not pinned`,
    );
    out.raw = {
      rows: ROWS, purgeable, purged, purgedEvents, purgeSeconds,
      p99: Object.fromEntries(PATHS.map((p) => [p, { empty: percentile(emptyPaths[p], 99), full: percentile(fullPaths[p], 99) }])),
      sweepMs: {
        empty: emptySweeps.map((r) => r.durationMs),
        firstAfterPurge: caughtUp.first.durationMs,
        full: caughtUp.rest.map((r) => r.durationMs),
        perJobMedian: perJob,
      },
      perRound,
    };
    return out;
  } finally {
    await Promise.all(stores.map((store) => store.close()));
    await Promise.all([empty.drop(), full.drop()]);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

await main(import.meta.url, run);

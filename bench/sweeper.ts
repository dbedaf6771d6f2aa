/**
 * The sweeper: `stowage sweep` over 100 000 abandoned uploads (pending rows whose URL expired
 * hours ago, each with its object on local disk; `BENCH_SWEEP_UPLOADS` to change, 2 000 in a
 * smoke). Time until every row is expired and every object gone, and the sweep process's peak
 * RSS against the same sweep over 1 000 uploads (memory must stay flat as the count grows).
 * Skipped, saying so, while `stowage sweep` does not exist.
 *
 *   npm run bench -- sweeper
 */
import { spawn } from "node:child_process";
import { mkdir, readdir, writeFile } from "node:fs/promises";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { v7 as uuidv7 } from "uuid";
import { openStore } from "../src/store/open.js";
import { peakRss, runCommand } from "./lib/proc.js";
import { judge, main, output, progress } from "./lib/report.js";
import { MiB, pinned, pinningNote, ROOT, RUNS, SERVER_CPU, SMOKE, tsxNodeArgs } from "./lib/settings.js";
import { median } from "./lib/stats.js";
import { JWT_SECRET } from "./lib/stowage.js";

const NAME = "sweeper";
const MANY = SMOKE ? 1000 : Math.max(1, Math.floor(Number(process.env.BENCH_SWEEP_UPLOADS ?? 100_000)));
const FEW = SMOKE ? 100 : 1000;
const OBJECT = Buffer.alloc(1024, 0x25);
const HOUR = 3600 * 1000;
/** A smoke sweeps one small set only (no memory comparison): it checks the harness, not the sweeper. */
const SIZES = SMOKE ? ([["many", MANY]] as const) : ([["few", FEW], ["many", MANY]] as const);

function env(dataDir: string): Record<string, string> {
  return {
    PATH: process.env.PATH ?? "",
    HOME: process.env.HOME ?? "/tmp",
    NODE_ENV: "production",
    NODE_NO_WARNINGS: "1",
    STOWAGE_DATA_DIR: dataDir,
    STOWAGE_JWT_SECRET: JWT_SECRET,
    STOWAGE_SIGNING_SECRET: "bench-signing-secret-that-is-long-enough-0123",
    LOG_LEVEL: "warn",
  };
}

/** `n` pending uploads whose URLs expired two hours ago, rows through the store, objects on disk. */
async function prepare(dataDir: string, n: number): Promise<void> {
  const store = openStore({ kind: "sqlite", file: join(dataDir, "stowage.db") });
  await store.migrate();
  const createdAt = new Date(Date.now() - 3 * HOUR);
  const expiresAt = new Date(Date.now() - 2 * HOUR);
  const objects = join(dataDir, "storage", "objects", "private");
  const meta = join(dataDir, "storage", "meta", "private");
  const meta1 = JSON.stringify({ contentType: "application/pdf", cacheControl: "private, max-age=0" });
  const made = new Set<string>();
  const pending: Promise<unknown>[] = [];
  for (let i = 0; i < n; i++) {
    const id = uuidv7();
    const userId = `user${i % 100}`;
    const key = `documents/${userId}/${id}.pdf`;
    // Not awaited one by one: the store groups the inserts of one turn into one statement.
    pending.push(store.insertUpload({
      id, userId, orgId: undefined, ownerType: "document", ownerId: undefined, bucket: "private", key, filename: "abandoned.pdf",
      contentType: "application/pdf", declaredSize: OBJECT.length, createdAt, expiresAt, multipart: undefined, staging: undefined, method: "put",
    }));
    const file = join(objects, key);
    for (const dir of [dirname(file), dirname(join(meta, key))]) {
      if (!made.has(dir)) {
        made.add(dir);
        await mkdir(dir, { recursive: true });
      }
    }
    pending.push(writeFile(file, OBJECT), writeFile(join(meta, `${key}.json`), meta1));
    if (pending.length >= 256) await Promise.all(pending.splice(0));
  }
  await Promise.all(pending);
  await store.close();
}

async function countFiles(dir: string): Promise<number> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isFile()).length;
}

/** Runs `stowage sweep --json` pinned to the server core; wall time, peak RSS, the report. */
async function sweep(dataDir: string): Promise<{ ms: number; peakRss: number; expired: number; report: unknown }> {
  const [command, args] = pinned(SERVER_CPU, process.execPath, [...tsxNodeArgs(), join(ROOT, "src/main.ts"), "sweep", "--json"]);
  let peak = 0;
  let done = false;
  const start = performance.now();
  const child = spawn(command, args, { cwd: dataDir, env: env(dataDir), stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (c: Buffer) => (stdout += c));
  child.stderr.on("data", (c: Buffer) => (stderr += c));
  const closed = new Promise<number | null>((resolve) => child.once("close", resolve));
  void (async () => {
    while (!done) {
      try {
        const now = peakRss(child.pid ?? 0);
        if (Number.isFinite(now)) peak = Math.max(peak, now);
      } catch {
        // gone between polls
      }
      await sleep(25);
    }
  })();
  const code = await closed;
  done = true;
  const ms = performance.now() - start;
  if (code !== 0) throw new Error(`stowage sweep exited ${code}: ${stderr.slice(-2000)}${stdout.slice(-1000)}`);
  const report = JSON.parse(stdout) as { jobs?: Record<string, { counts?: Record<string, number> }> };
  return { ms, peakRss: peak, expired: report.jobs?.abandoned?.counts?.expired ?? 0, report };
}

async function run() {
  const out = output(NAME);
  const help = await runCommand(process.execPath, [...tsxNodeArgs(), join(ROOT, "src/main.ts"), "sweep", "--help"], { cwd: ROOT });
  if (help.code !== 0 || !help.stdout.includes("stowage sweep")) {
    out.skipped.push("sweeper not built yet (`stowage sweep --help` does not answer)");
    return out;
  }
  const runs: { many: { ms: number; peakRss: number }; few?: { ms: number; peakRss: number } }[] = [];
  // Each size is prepared once into a template; every run sweeps a fresh copy of it (cp -a is
  // several times faster than inserting 100 000 rows through the store again).
  const scratch = mkdtempSync(join(process.env.BENCH_TMPDIR ?? tmpdir(), "sweeper-bench-"));
  const templates = { few: join(scratch, "few"), many: join(scratch, "many") };
  try {
    for (const [label, n] of SIZES) {
      const t0 = performance.now();
      await mkdir(templates[label]);
      await prepare(templates[label], n);
      progress(NAME, `prepared ${n} abandoned uploads in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    }
    for (let round = 1; round <= RUNS; round++) {
      const result: Partial<(typeof runs)[number]> = {};
      for (const [label, n] of SIZES) {
        const dataDir = join(scratch, `run-${round}-${label}`);
        const copy = await runCommand("cp", ["-a", templates[label], dataDir]);
        if (copy.code !== 0) throw new Error(`cp -a failed: ${copy.stderr}`);
        try {
          const swept = await sweep(dataDir);
          const left = await countFiles(join(dataDir, "storage", "objects"));
          if (swept.expired !== n) out.failures.push(`run ${round}: the sweep expired ${swept.expired} of ${n} uploads`);
          if (left !== 0) out.failures.push(`run ${round}: ${left} of ${n} objects left after the sweep`);
          result[label] = { ms: swept.ms, peakRss: swept.peakRss };
          progress(NAME, `run ${round}/${RUNS}: swept ${n} in ${(swept.ms / 1000).toFixed(2)} s, peak RSS ${(swept.peakRss / MiB).toFixed(0)} MiB, ${left} objects left`);
        } finally {
          rmSync(dataDir, { recursive: true, force: true });
        }
      }
      runs.push(result as (typeof runs)[number]);
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  const seconds = median(runs.map((r) => r.many.ms)) / 1000;
  const fewSeconds = median(runs.flatMap((r) => (r.few === undefined ? [] : [r.few.ms]))) / 1000;
  const rss = median(runs.map((r) => r.many.peakRss)) / MiB;
  const fewRss = median(runs.flatMap((r) => (r.few === undefined ? [] : [r.few.peakRss]))) / MiB;
  const bench = `sweeper, ${MANY.toLocaleString("en-US")} abandoned`;
  out.rows.push(
    {
      benchmark: bench, metric: "wall time of `stowage sweep`", unit: "s", stowage: seconds, baseline: fewSeconds, baselineName: `${FEW} abandoned`,
      ratio: seconds / fewSeconds, target: "< 60 s", met: judge(seconds < 60),
    },
    { benchmark: bench, metric: "uploads reclaimed per second", unit: "/s", stowage: MANY / seconds },
    {
      benchmark: bench, metric: "peak RSS of the sweep process", unit: "MiB", stowage: rss, baseline: fewRss, baselineName: `${FEW} abandoned`, ratio: rss / fewRss,
      target: "flat: < +64 MiB", met: judge(rss - fewRss < 64),
    },
  );
  out.notes.push(
    `sweeper: ${RUNS} run(s); each sweeps a fresh copy (cp -a) of pending uploads expired 2 h ago, prepared once (SQLite rows through the store, a 1 KiB object + metadata file each on local disk), ` +
    `then times the whole \`stowage sweep --json\` process (node + tsx start-up included, all jobs) and checks every row expired and no object left; RSS polled every 25 ms; ${pinningNote()}`,
  );
  out.raw = { runs, many: MANY, few: FEW };
  return out;
}

await main(import.meta.url, run);

/**
 * `npm run bench [-- NAME…]`: runs each benchmark file in its own process, one after another,
 * prints one table (benchmark, metric, Stowage, baseline, ratio, target, met?) and writes every
 * figure to `.bench-results/<timestamp>.json`. `npm run bench:smoke` (or `--smoke`, or
 * `BENCH_SMOKE=1`) runs each for a few seconds only, to keep the harness from rotting.
 *
 * Starts a throw-away Ceph RGW (scripts/s3-test-server.sh) when a selected benchmark needs S3
 * and `S3_TEST_ENDPOINT` is unset, and a throw-away clamd (scripts/clamd.sh) when one needs
 * clamd and `CLAMD_TEST_PORT` is unset, and stops them at the end; installs Chromium
 * (scripts/browser.sh, instant once it is there) when one drives a browser. Needs PostgreSQL at
 * `STOWAGE_TEST_PG_URL` (default postgres://postgres@127.0.0.1:5432/postgres) and Redis at
 * `REDIS_URL` (default redis://127.0.0.1:6379; only the Redis cache row is skipped without it).
 *
 * Exits 1 when a benchmark crashed or found a correctness problem (non-2xx answers under
 * load, quota overshoot); a missed performance target is reported as NO, not as a failure.
 */
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import type { BenchOutput } from "./lib/report.js";
import { table } from "./lib/report.js";
import { CLIENT_CPU, pinned, pinningNote, RESULTS_DIR, ROOT, tsxNodeArgs } from "./lib/settings.js";

/** In priority order; `s3`: needs the S3 server; `clamd`: needs clamd; `browser`: drives Chromium. */
const BENCHMARKS: { name: string; s3: boolean; clamd?: boolean; browser?: boolean; about: string }[] = [
  { name: "presign", s3: true, about: "POST /v1/uploads on SQLite and PostgreSQL vs a bare Fastify route and Uppy Companion" },
  { name: "presign-stages", s3: false, about: "where a presign's time goes: JWT, quota read, insert, SigV4, the whole service call, in process" },
  { name: "signing", s3: false, about: "one presigned PUT: direct SigV4 vs getSignedUrl vs aws4fetch vs local HMAC" },
  { name: "confirm", s3: true, about: "confirm on RGW + PostgreSQL vs RGW's own HEAD (+ ranged GET)" },
  { name: "local-put", s3: false, about: "local-disk PUT of a big file vs dd and @tus/server" },
  { name: "download-url", s3: false, about: "signed download URL with the cache vs signing every time" },
  { name: "quota-contention", s3: false, about: "200 concurrent presigns (150 fit) and their confirms on one user vs 200 users (PostgreSQL)" },
  { name: "hot-org", s3: false, about: "200 users of one organization confirming at once vs 200 users of 200 organizations (PostgreSQL; store and HTTP)" },
  { name: "end-to-end", s3: true, about: "presign → PUT 1 MiB → confirm, 50 concurrent clients" },
  { name: "integrity", s3: false, browser: true, about: "Content-MD5 the client computes: MiB/s in Node (node:crypto, @noble/hashes) and in Chromium" },
  { name: "sweeper", s3: false, about: "stowage sweep over 100 000 abandoned uploads" },
  { name: "history", s3: false, about: "presign, confirm, list and a sweep on 20 M mostly finished rows vs an empty table, and the purge rate (PostgreSQL)" },
  { name: "derivatives", s3: false, about: "avatar thumbnails from 12 MP JPEGs (renderDerivative) vs bare sharp and a full decode, with peak RSS" },
  { name: "scan", s3: false, clamd: true, about: "virus scan of a 64 MiB body through clamd vs the same INSTREAM to a sink" },
  { name: "events", s3: false, about: "webhook events/s through the outbox Dispatcher on SQLite and PostgreSQL vs the same signed POSTs sent directly" },
];

const args = process.argv.slice(2);
if (args.includes("--help") || args.includes("--list")) {
  console.log("npm run bench [-- [--smoke] [NAME…]]   env: BENCH_SECONDS, BENCH_RUNS, BENCH_SMOKE=1, BENCH_BIG_MB, BENCH_HISTORY_ROWS, BENCH_PROFILE=1\n");
  for (const b of BENCHMARKS) console.log(`  ${b.name.padEnd(18)} ${b.about}`);
  process.exit(0);
}
if (args.includes("--smoke")) process.env.BENCH_SMOKE = "1";
const smoke = process.env.BENCH_SMOKE === "1";
const names = args.filter((a) => !a.startsWith("--"));
const unknown = names.filter((n) => !BENCHMARKS.some((b) => b.name === n));
if (unknown.length > 0) {
  console.error(`unknown benchmark(s): ${unknown.join(", ")}; known: ${BENCHMARKS.map((b) => b.name).join(", ")}`);
  process.exit(2);
}
const selected = BENCHMARKS.filter((b) => names.length === 0 || names.includes(b.name));

function machine() {
  const sh = (cmd: string, a: string[]) => {
    try {
      return execFileSync(cmd, a, { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
    } catch {
      return "";
    }
  };
  return {
    nproc: Number(sh("nproc", [])) || cpus().length,
    cpu: /Model name:\s*(.*)/.exec(sh("lscpu", []))?.[1]?.trim() ?? cpus()[0]?.model ?? "",
    memoryGiB: Math.round(Number(/MemTotal:\s+(\d+)/.exec(readFileSync("/proc/meminfo", "utf8"))?.[1] ?? 0) / 1024 / 1024),
    node: process.version,
    commit: sh("git", ["-C", ROOT, "rev-parse", "--short", "HEAD"]),
    dirtyTree: sh("git", ["-C", ROOT, "status", "--porcelain", "--untracked-files=no"]) !== "",
    loadAverageAtStart: loadavg().map((l) => Math.round(l * 100) / 100),
  };
}

/** Starts the throw-away RGW as `npm test` does; returns its env and how to stop it. */
function startS3(): { env: Record<string, string>; stop: () => void } {
  console.error("bench: S3_TEST_ENDPOINT is unset: installing (once) and starting a throw-away Ceph RGW");
  execFileSync("bash", [join(ROOT, "scripts/s3-test-server.sh"), "install"], { stdio: ["ignore", "inherit", "inherit"] });
  const out = execFileSync("bash", ["-c", "set -e; eval \"$(scripts/s3-test-server.sh start)\"; env | grep ^S3_TEST_"], {
    cwd: ROOT,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
  });
  const env = Object.fromEntries(out.trim().split("\n").map((line) => [line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1)]));
  return {
    env,
    stop: () => {
      if (env.S3_TEST_DIR) execFileSync("bash", [join(ROOT, "scripts/s3-test-server.sh"), "stop", env.S3_TEST_DIR], { stdio: "inherit" });
    },
  };
}

/**
 * Starts a throw-away clamd as `npm test` does, but taking 128 MiB streams (the scan benchmark
 * sends 64 MiB; the test default of 25 MiB would answer "too large"); returns its env and how to stop it.
 */
function startClamd(): { env: Record<string, string>; stop: () => void } {
  console.error("bench: CLAMD_TEST_PORT is unset: installing (once) and starting a throw-away clamd");
  execFileSync("bash", [join(ROOT, "scripts/clamd.sh"), "install"], { stdio: ["ignore", "inherit", "inherit"] });
  const out = execFileSync("bash", ["-c", "set -e; eval \"$(scripts/clamd.sh start)\"; env | grep ^CLAMD_TEST_"], {
    cwd: ROOT,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
    env: { ...process.env, CLAMD_TEST_STREAM_MAX: "128M" },
  });
  const env = Object.fromEntries(out.trim().split("\n").map((line) => [line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1)]));
  return {
    env,
    stop: () => {
      if (env.CLAMD_TEST_DIR) execFileSync("bash", [join(ROOT, "scripts/clamd.sh"), "stop", env.CLAMD_TEST_DIR], { stdio: "inherit" });
    },
  };
}

async function runOne(
  name: string,
  extraEnv: Record<string, string>,
): Promise<{ result: BenchOutput | undefined; code: number | null; seconds: number }> {
  const dir = mkdtempSync(join(tmpdir(), "bench-result-"));
  const file = join(dir, "result.json");
  const [command, commandArgs] = pinned(CLIENT_CPU, process.execPath, [...tsxNodeArgs(), join(ROOT, "bench", `${name}.ts`)]);
  const start = performance.now();
  const child = spawn(command, commandArgs, {
    cwd: ROOT,
    stdio: ["ignore", "inherit", "inherit"],
    env: { ...process.env, ...extraEnv, BENCH_RESULT_FILE: file, NODE_NO_WARNINGS: "1" },
  });
  const stopChild = () => child.kill("SIGTERM");
  process.once("SIGINT", stopChild);
  const code = await new Promise<number | null>((resolve) => child.once("close", resolve));
  process.off("SIGINT", stopChild);
  const result = existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as BenchOutput) : undefined;
  rmSync(dir, { recursive: true, force: true });
  return { result, code, seconds: (performance.now() - start) / 1000 };
}

const started = new Date();
const info = machine();
console.error(
  `bench: ${selected.map((b) => b.name).join(", ")}${smoke ? " (SMOKE: short single runs, targets not judged)" : ""}\n` +
  `bench: ${info.nproc} × ${info.cpu}, ${info.memoryGiB} GiB, Node ${info.node}, load average ${info.loadAverageAtStart.join(" ")}; ${pinningNote()}`,
);

let s3: ReturnType<typeof startS3> | undefined;
let clamd: ReturnType<typeof startClamd> | undefined;
const extraEnv: Record<string, string> = {};
if (selected.some((b) => b.s3) && !process.env.S3_TEST_ENDPOINT) {
  s3 = startS3();
  Object.assign(extraEnv, s3.env);
}
if (selected.some((b) => b.browser)) {
  execFileSync("bash", [join(ROOT, "scripts/browser.sh"), "install"], { stdio: ["ignore", "inherit", "inherit"] });
}
if (selected.some((b) => b.clamd) && !process.env.CLAMD_TEST_PORT) {
  clamd = startClamd();
  Object.assign(extraEnv, clamd.env);
}

const results: { name: string; code: number | null; seconds: number; output: BenchOutput | undefined }[] = [];
try {
  for (const bench of selected) {
    console.error(`\nbench: ${bench.name} — ${bench.about}`);
    const { result, code, seconds } = await runOne(bench.name, extraEnv);
    console.error(`bench: ${bench.name} finished in ${seconds.toFixed(0)} s${code === 0 ? "" : ` (exit ${code})`}`);
    results.push({ name: bench.name, code, seconds, output: result });
  }
} finally {
  clamd?.stop();
  s3?.stop();
}

const rows = results.flatMap((r) => r.output?.rows ?? []);
const failures = results.flatMap((r) => [
  ...(r.output?.failures ?? []).map((f) => `${r.name}: ${f}`),
  ...(r.code !== 0 && (r.output?.failures.length ?? 0) === 0 ? [`${r.name}: exited ${r.code} (see its output above)`] : []),
]);
const finished = new Date();
const lines = [
  "",
  `Stowage benchmarks, ${started.toISOString()}${smoke ? " — SMOKE (numbers not meaningful, targets not judged)" : ""}`,
  `Machine: ${info.nproc} × ${info.cpu}, ${info.memoryGiB} GiB, Node ${info.node}, commit ${info.commit}${info.dirtyTree ? " (with uncommitted changes)" : ""}; ` +
  `load average ${info.loadAverageAtStart.join(" ")} at start, ${loadavg().map((l) => l.toFixed(2)).join(" ")} at end (a shared machine: ratios hold better than absolute figures)`,
  "",
  table(rows, smoke),
  "",
  ...results.flatMap((r) => (r.output?.notes ?? []).map((n) => `- ${n}`)),
  ...results.flatMap((r) => (r.output?.skipped ?? []).map((s) => `- skipped (${r.name}): ${s}`)),
  ...failures.map((f) => `- FAILED ${f}`),
];
console.log(lines.join("\n"));

mkdirSync(RESULTS_DIR, { recursive: true });
const file = join(RESULTS_DIR, `${started.toISOString().replace(/[:.]/g, "-")}${smoke ? "-smoke" : ""}.json`);
writeFileSync(
  file,
  JSON.stringify(
    {
      started: started.toISOString(),
      finished: finished.toISOString(),
      smoke,
      settings: Object.fromEntries(
        ["BENCH_SECONDS", "BENCH_RUNS", "BENCH_BIG_MB", "BENCH_SWEEP_UPLOADS", "BENCH_HISTORY_ROWS", "BENCH_PROFILE"].map((name) => [name, process.env[name] ?? null]),
      ),
      pinning: pinningNote(),
      machine: { ...info, loadAverageAtEnd: loadavg() },
      rows,
      failures,
      benchmarks: results,
    },
    null,
    2,
  ),
);
console.log(`\nResults: ${file} (${((finished.getTime() - started.getTime()) / 1000).toFixed(0)} s)${failures.length > 0 ? `; ${failures.length} failure(s)` : ""}`);
process.exitCode = failures.length > 0 ? 1 : 0;

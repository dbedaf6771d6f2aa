import { cpus } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root (bench/ lives directly under it). */
export const ROOT = fileURLToPath(new URL("../..", import.meta.url));
export const MiB = 1024 * 1024;

/**
 * How long and how often to measure, from the environment the runner passes down:
 * - `BENCH_SMOKE=1`: one short run of everything (~5 s of measuring per benchmark), to keep the
 *   harness from rotting in CI; its numbers mean nothing and its targets are not judged.
 * - `BENCH_SECONDS`: seconds of one measured run (default 5; 1 in a smoke). Warm-ups, request
 *   counts and item counts scale with it.
 * - `BENCH_RUNS`: measured runs per case, at least 3 (1 in a smoke); the median is reported.
 */
export const SMOKE = process.env.BENCH_SMOKE === "1";
export const SECONDS = positive(process.env.BENCH_SECONDS, SMOKE ? 1 : 5);
export const RUNS = SMOKE ? 1 : Math.max(3, Math.floor(positive(process.env.BENCH_RUNS, 3)));
export const WARMUP_SECONDS = SMOKE ? 0.5 : Math.max(1, SECONDS / 2);

/**
 * Where the server under test and the load generator run. With two or more cores the servers
 * (Stowage and every baseline alike) get the last core and the load generator / client loop the
 * first, so they do not take turns on one core; databases and the S3 server are not pinned.
 */
// All online CPUs, not this process's affinity: benchmark files themselves run pinned.
const CORES = cpus().length;
export const PINNING = CORES >= 2 && process.env.BENCH_NO_PIN !== "1";
export const SERVER_CPU = String(CORES - 1);
export const CLIENT_CPU = "0";

export function pinningNote(): string {
  return PINNING
    ? `servers pinned to CPU ${SERVER_CPU}, load generator and client loops to CPU ${CLIENT_CPU} (taskset); PostgreSQL, Redis and RGW unpinned`
    : "no CPU pinning (one core, or BENCH_NO_PIN=1)";
}

/** Prefixes a command with `taskset -c CPU` when pinning applies. */
export function pinned(cpu: string, command: string, args: string[]): [string, string[]] {
  return PINNING ? ["taskset", ["-c", cpu, command, ...args]] : [command, args];
}

/** `node --import tsx` for TypeScript children (tsx resolved from here, whatever their cwd). */
export function tsxNodeArgs(): string[] {
  return ["--import", import.meta.resolve("tsx")];
}

/** Per-run artifacts (server logs, CPU profiles) go under `.bench-results/`, which git ignores. */
export const RESULTS_DIR = join(ROOT, ".bench-results");

/** `BENCH_PROFILE=1`: run every Stowage server with `--cpu-prof` and summarize the profile. */
export const PROFILE = process.env.BENCH_PROFILE === "1";

function positive(raw: string | undefined, fallback: number): number {
  const value = Number(raw);
  return raw !== undefined && raw !== "" && Number.isFinite(value) && value > 0 ? value : fallback;
}

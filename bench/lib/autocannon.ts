import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCommand } from "./proc.js";
import { CLIENT_CPU, pinned } from "./settings.js";

const AUTOCANNON = createRequire(import.meta.url).resolve("autocannon");

/** One request autocannon replays (through a HAR file, so many users' tokens can rotate). */
export interface LoadRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: string;
}

export interface LoadResult {
  /** Successful (2xx) requests per second over the whole run. */
  rps: number;
  p50: number;
  p99: number;
  mean: number;
  total: number;
  non2xx: number;
  errors: number;
  seconds: number;
  /** Status codes autocannon saw, e.g. `{ "201": 1234 }`. */
  statusCodes: Record<string, number>;
}

/**
 * Runs the autocannon CLI (`--json`) as a separate process, pinned to the client core, against
 * `requests` in turn (each connection cycles through them). `overallRate` caps the offered
 * load (req/s over all connections); latencies then include coordinated-omission correction.
 * Latencies are whole milliseconds (autocannon's resolution).
 */
export async function autocannon(options: {
  requests: readonly LoadRequest[];
  connections: number;
  seconds: number;
  overallRate?: number | undefined;
}): Promise<LoadResult> {
  const first = options.requests[0];
  if (first === undefined) throw new Error("autocannon: no requests");
  const dir = mkdtempSync(join(tmpdir(), "bench-har-"));
  const har = join(dir, "requests.har");
  writeFileSync(
    har,
    JSON.stringify({
      log: {
        entries: options.requests.map((r) => ({
          request: {
            method: r.method,
            url: r.url,
            headers: Object.entries(r.headers).map(([name, value]) => ({ name, value })),
            ...(r.body === undefined ? {} : { postData: { mimeType: r.headers["content-type"] ?? "application/json", text: r.body } }),
          },
        })),
      },
    }),
  );
  const args = [
    AUTOCANNON,
    "--json",
    "--no-progress",
    "-c",
    String(options.connections),
    "-d",
    String(options.seconds),
    "--har",
    har,
    ...(options.overallRate === undefined ? [] : ["-R", String(Math.max(1, Math.round(options.overallRate)))]),
    new URL(first.url).origin,
  ];
  const [command, commandArgs] = pinned(CLIENT_CPU, process.execPath, args);
  try {
    const run = await runCommand(command, commandArgs);
    const line = run.stdout.trim().split("\n").at(-1) ?? "";
    if (run.code !== 0 || !line.startsWith("{")) throw new Error(`autocannon failed (${run.code}): ${run.stderr.slice(-2000)}`);
    const json = JSON.parse(line) as {
      duration: number;
      errors: number;
      timeouts: number;
      non2xx: number;
      "2xx": number;
      statusCodeStats?: Record<string, { count: number }>;
      latency: { p50: number; p99: number; mean: number };
      requests: { total: number };
    };
    return {
      rps: json["2xx"] / json.duration,
      p50: json.latency.p50,
      p99: json.latency.p99,
      mean: json.latency.mean,
      total: json.requests.total,
      non2xx: json.non2xx,
      errors: json.errors + json.timeouts,
      seconds: json.duration,
      statusCodes: Object.fromEntries(Object.entries(json.statusCodeStats ?? {}).map(([code, s]) => [code, s.count])),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A load run whose answers were not all 2xx measured something else: say what. */
export function loadProblem(name: string, result: LoadResult): string | undefined {
  if (result.non2xx === 0 && result.errors === 0) return undefined;
  return `${name}: ${result.non2xx} non-2xx answers and ${result.errors} errors/timeouts of ${result.total} (status codes ${JSON.stringify(result.statusCodes)})`;
}

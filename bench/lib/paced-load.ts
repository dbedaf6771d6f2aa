/**
 * An open-loop load generator for "latency at a given rate", run as its own process (pinned to
 * the client core) by `pacedLoad()`. Requests are scheduled evenly (one every 1/rate s), cycled
 * from a request list, over at most `connections` keep-alive sockets; each latency is measured
 * from the request's *scheduled* time, so a request that had to wait for a socket or a slow
 * server counts its wait (no coordinated omission).
 *
 * Why not `autocannon --overallRate`: autocannon 9 sends each connection's per-second quota back
 * to back at the start of every second, and corrects for coordinated omission with an expected
 * interval of `Math.ceil(1 / rate)` = 1 ms, so every response slower than 1 ms adds phantom
 * samples: a bare Fastify route at 4 % of its capacity showed p99 ≈ 300 ms here.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { Agent, request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { LoadRequest } from "./autocannon.js";
import { runCommand } from "./proc.js";
import { CLIENT_CPU, pinned, tsxNodeArgs } from "./settings.js";

export interface PacedResult {
  rate: number;
  sent: number;
  ok: number;
  failed: number;
  p50: number;
  p99: number;
  max: number;
}

/** Runs this file as a separate, pinned process and returns its measurements. */
export async function pacedLoad(options: {
  requests: readonly LoadRequest[];
  rate: number;
  seconds: number;
  connections: number;
}): Promise<PacedResult> {
  const dir = mkdtempSync(join(tmpdir(), "bench-paced-"));
  try {
    writeFileSync(join(dir, "in.json"), JSON.stringify(options));
    const script = new URL(import.meta.url).pathname;
    const [command, args] = pinned(CLIENT_CPU, process.execPath, [...tsxNodeArgs(), script, join(dir, "in.json"), join(dir, "out.json")]);
    const run = await runCommand(command, args);
    if (run.code !== 0) throw new Error(`paced load generator failed (${run.code}): ${run.stderr.slice(-2000)}`);
    return JSON.parse(readFileSync(join(dir, "out.json"), "utf8")) as PacedResult;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function generate(input: { requests: LoadRequest[]; rate: number; seconds: number; connections: number }): Promise<PacedResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: input.connections });
  const latencies: number[] = [];
  let ok = 0;
  let failed = 0;
  let sent = 0;
  const inflight = new Set<Promise<void>>();
  const fire = (r: LoadRequest, scheduled: number) => {
    const done = new Promise<void>((resolve) => {
      const req = request(r.url, { method: r.method, headers: r.headers, agent }, (res) => {
        res.resume();
        res.on("end", () => {
          latencies.push(performance.now() - scheduled);
          if ((res.statusCode ?? 0) >= 200 && (res.statusCode ?? 0) < 300) ok++;
          else failed++;
          resolve();
        });
      });
      req.on("error", () => {
        failed++;
        resolve();
      });
      req.end(r.body);
    });
    inflight.add(done);
    void done.then(() => inflight.delete(done));
  };
  const interval = 1000 / input.rate;
  const start = performance.now();
  const end = start + input.seconds * 1000;
  while (performance.now() < end) {
    const due = Math.floor((performance.now() - start) / interval) + 1;
    while (sent < due) {
      fire(input.requests[sent % input.requests.length] as LoadRequest, start + sent * interval);
      sent++;
    }
    await sleep(Math.max(0, Math.min(interval, end - performance.now()) - 0.5));
  }
  await Promise.all(inflight);
  agent.destroy();
  const sorted = latencies.sort((a, b) => a - b);
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? Number.NaN;
  return { rate: input.rate, sent, ok, failed, p50: at(50), p99: at(99), max: sorted.at(-1) ?? Number.NaN };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [inFile, outFile] = process.argv.slice(2);
  if (inFile === undefined || outFile === undefined) throw new Error("usage: paced-load.ts IN.json OUT.json");
  const result = await generate(JSON.parse(readFileSync(inFile, "utf8")));
  writeFileSync(outFile, JSON.stringify(result));
}

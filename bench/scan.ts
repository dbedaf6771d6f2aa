/**
 * Virus-scanning throughput: MiB/s of a clean body streamed through `ClamdScanner` to the real
 * clamd (Debian's clamav-daemon, one test signature: the cost of reading, framing and matching,
 * not of ClamAV's full database, which this machine cannot download), against the same scanner
 * streaming to a sink that reads the INSTREAM frames and scans nothing (bench/servers/instream-sink.ts).
 *
 *   npm run bench -- scan          (or, with a clamd started: node --import tsx bench/scan.ts)
 */
import { randomBytes } from "node:crypto";
import { Readable } from "node:stream";
import { ClamdScanner } from "../src/scanning/clamd.js";
import type { ScanVerdict } from "../src/scanning/scanner.js";
import { clamdEnv } from "../test/helpers/clamd.js";
import { freePort, startProcess } from "./lib/proc.js";
import { main, output, progress } from "./lib/report.js";
import { MiB, ROOT, RUNS, SERVER_CPU, SMOKE, tsxNodeArgs } from "./lib/settings.js";
import { median } from "./lib/stats.js";

/** 64 MiB: a big upload; bench/run.ts starts clamd with a StreamMaxLength that takes it. */
const SCAN_BENCH_BYTES = (SMOKE ? 8 : 64) * MiB;

/** `size` bytes of one random MiB repeated, made as they are read (as an object store's GET would hand them over). */
function body(block: Buffer, size: number): Readable {
  return Readable.from(
    (function* () {
      for (let at = 0; at < size; at += MiB) yield block.subarray(0, Math.min(MiB, size - at));
    })(),
  );
}

async function mibPerSecond(scanner: ClamdScanner, block: Buffer, size: number): Promise<number> {
  const once = async (): Promise<number> => {
    const start = performance.now();
    const verdict: ScanVerdict = await scanner.scan(body(block, size));
    if (verdict.kind !== "clean") throw new Error(`expected a clean verdict, got ${JSON.stringify(verdict)}`);
    return performance.now() - start;
  };
  await once(); // warm-up
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) times.push(await once());
  return size / MiB / (median(times) / 1000);
}

async function run() {
  const out = output("scan");
  const env = clamdEnv();
  const size = Math.min(SCAN_BENCH_BYTES, env.streamMaxBytes);
  if (size < SCAN_BENCH_BYTES) out.notes.push(`scan: clamd's StreamMaxLength is ${env.streamMaxBytes / MiB} MiB, so ${size / MiB} MiB bodies, not ${SCAN_BENCH_BYTES / MiB}`);
  const block = randomBytes(MiB);
  const options = { timeoutMs: 60_000, streamMaxBytes: env.streamMaxBytes };

  const port = await freePort();
  const sink = await startProcess({
    name: "instream-sink",
    command: process.execPath,
    args: [...tsxNodeArgs(), "bench/servers/instream-sink.ts"],
    env: { ...process.env, PORT: String(port) } as Record<string, string>,
    cwd: ROOT,
    cpu: SERVER_CPU,
    ready: (log) => log.includes("listening"),
  });
  try {
    const clamd = await mibPerSecond(new ClamdScanner({ host: env.host, port: env.port, ...options }), block, size);
    const plain = await mibPerSecond(new ClamdScanner({ host: "127.0.0.1", port, ...options }), block, size);
    progress("scan", `clamd ${clamd.toFixed(0)} MiB/s, sink ${plain.toFixed(0)} MiB/s`);
    out.rows.push({
      benchmark: `scan: ${size / MiB} MiB clean body through clamd`,
      metric: "MiB/s scanned",
      unit: "MiB/s",
      stowage: clamd,
      baseline: plain,
      baselineName: "INSTREAM to a sink",
      ratio: clamd / plain,
    });
    out.notes.push(
      `scan: ${size / MiB} MiB (one random MiB repeated), 64 KiB INSTREAM chunks, median of ${RUNS} run(s) after a warm-up; ` +
      `clamd 1.4 with one .ndb test signature, unpinned; the sink is a Node process pinned like the other servers`,
    );
    out.raw = { size, clamd, sink: plain };
  } finally {
    await sink.stop();
  }
  return out;
}

await main(import.meta.url, run);

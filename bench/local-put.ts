/**
 * The local backend's data path: one presigned PUT of a big file (1 GiB; `BENCH_BIG_MB` to
 * change, 64 MiB in a smoke) into Stowage's local disk storage, against `dd … conv=fsync` to the
 * same disk and `@tus/server` + `@tus/file-store` receiving the same bytes in one PATCH. MB/s
 * each, and the peak RSS growth of the Stowage process while it streams.
 *
 *   npm run bench -- local-put
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { expectStatus, request } from "./lib/http.js";
import { freePort, runCommand, startProcess } from "./lib/proc.js";
import { judge, main, output, progress } from "./lib/report.js";
import { MiB, pinned, pinningNote, ROOT, RUNS, SERVER_CPU, SMOKE, tsxNodeArgs } from "./lib/settings.js";
import { median } from "./lib/stats.js";
import { startStowage } from "./lib/stowage.js";

const NAME = "local-put";
const SIZE_MB = SMOKE ? 64 : Math.max(1, Math.floor(Number(process.env.BENCH_BIG_MB ?? 1024)));
const SIZE = SIZE_MB * MiB;

/** `size` bytes of zeros in 1 MiB chunks, produced as they are read (nothing buffered). */
function zeros(size: number): Readable {
  const chunk = Buffer.alloc(MiB, 0);
  let sent = 0;
  return new Readable({
    read() {
      if (sent >= size) return void this.push(null);
      const piece = chunk.subarray(0, Math.min(MiB, size - sent));
      sent += piece.length;
      this.push(piece);
    },
  });
}

const mbps = (bytes: number, ms: number) => bytes / 1e6 / (ms / 1000);

async function run() {
  const out = output(NAME);
  const scratch = mkdtempSync(join(process.env.BENCH_TMPDIR ?? tmpdir(), "local-put-bench-"));
  const tusDir = join(scratch, "tus");
  const stowage = await startStowage("local-put", {}, {
    configFile: {
      policies: {
        video: {
          allowedTypes: ["video/mp4"], maxBytes: 4 * 1024 * MiB, urlTtlSeconds: 3600, keyTemplate: "videos/{userId}/{id}.{ext}",
          bucket: "private", visibility: "private", multipartThresholdBytes: 5 * 1024 * MiB, // one PUT however large
        },
      },
    },
  });
  const tusPort = await freePort();
  const tus = await startProcess({
    name: "tus",
    command: process.execPath,
    args: [...tsxNodeArgs(), join(ROOT, "bench/servers/tus.ts")],
    cwd: ROOT,
    cpu: SERVER_CPU,
    env: { PATH: process.env.PATH ?? "", NODE_ENV: "production", PORT: String(tusPort), DIRECTORY: tusDir },
    ready: (o) => o.includes("tus listening"),
  });
  const sinkPort = await freePort();
  const sink = await startProcess({
    name: "sink",
    command: process.execPath,
    args: [...tsxNodeArgs(), join(ROOT, "bench/servers/sink.ts")],
    cwd: ROOT,
    cpu: SERVER_CPU,
    env: { PATH: process.env.PATH ?? "", NODE_ENV: "production", PORT: String(sinkPort) },
    ready: (o) => o.includes("sink listening"),
  });
  try {
    const token = await stowage.token("streamer");
    const stowagePut = async (size: number) => {
      const presigned = expectStatus(
        await request(`${stowage.baseUrl}/v1/uploads`, {
          method: "POST",
          headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
          body: JSON.stringify({ ownerType: "video", filename: "clip.mp4", contentType: "video/mp4", size }),
        }),
        201,
        "presign",
      ).json<{ id: string; url: string; headers: Record<string, string> }>();
      const start = performance.now();
      expectStatus(await request(presigned.url, { method: "PUT", headers: presigned.headers, body: zeros(size) }), 200, "Stowage PUT");
      const ms = performance.now() - start;
      expectStatus(await request(`${stowage.baseUrl}/v1/uploads/${presigned.id}`, { method: "DELETE", headers: { authorization: `Bearer ${token}` } }), 204, "delete");
      return ms;
    };
    const tusPut = async (size: number) => {
      const start = performance.now();
      const created = expectStatus(
        await request(`http://127.0.0.1:${tusPort}/files`, { method: "POST", headers: { "tus-resumable": "1.0.0", "upload-length": String(size) } }),
        201,
        "tus create",
      );
      const location = new URL(String(created.headers.location), `http://127.0.0.1:${tusPort}`).toString();
      expectStatus(
        await request(location, {
          method: "PATCH",
          headers: { "tus-resumable": "1.0.0", "upload-offset": "0", "content-type": "application/offset+octet-stream", "content-length": String(size) },
          body: zeros(size),
        }),
        204,
        "tus PATCH",
      );
      const ms = performance.now() - start;
      expectStatus(await request(location, { method: "DELETE", headers: { "tus-resumable": "1.0.0" } }), 204, "tus delete");
      return ms;
    };
    const ddWrite = async (size: number) => {
      const [command, args] = pinned(SERVER_CPU, "dd", ["if=/dev/zero", `of=${join(scratch, "dd.bin")}`, "bs=1M", `count=${size / MiB}`, "conv=fsync"]);
      const result = await runCommand(command, args);
      if (result.code !== 0) throw new Error(`dd failed: ${result.stderr}`);
      rmSync(join(scratch, "dd.bin"), { force: true });
      return result.ms;
    };
    const sinkPut = async (size: number) => {
      const start = performance.now();
      expectStatus(await request(`http://127.0.0.1:${sinkPort}/`, { method: "PUT", headers: { "content-length": String(size) }, body: zeros(size) }), 200, "sink PUT");
      return performance.now() - start;
    };
    // Nothing written earlier may still be draining to disk while a timed write runs.
    const sync = () => runCommand("sync", []);

    progress(NAME, "warm-up: 16 MiB through each");
    await ddWrite(16 * MiB);
    await stowagePut(16 * MiB);
    await tusPut(16 * MiB);
    await sinkPut(16 * MiB);
    const stowageBefore = stowage.proc.peakRss();
    const tusBefore = tus.peakRss();

    const runs: { dd: number[]; stowage: number[]; tus: number[]; sink: number[] } = { dd: [], stowage: [], tus: [], sink: [] };
    for (let round = 1; round <= RUNS; round++) {
      for (const [label, put] of [["dd", ddWrite], ["stowage", stowagePut], ["tus", tusPut], ["sink", sinkPut]] as const) {
        await sync();
        const ms = await put(SIZE);
        runs[label].push(mbps(SIZE, ms));
        progress(NAME, `run ${round}/${RUNS} ${label}: ${SIZE_MB} MiB in ${(ms / 1000).toFixed(2)} s = ${mbps(SIZE, ms).toFixed(0)} MB/s`);
      }
    }
    const stowageGrowth = (stowage.proc.peakRss() - stowageBefore) / MiB;
    const tusGrowth = (tus.peakRss() - tusBefore) / MiB;
    const s = median(runs.stowage);
    const dd = median(runs.dd);
    const t = median(runs.tus);
    const bench = `local PUT ${SIZE_MB >= 1024 ? `${SIZE_MB / 1024} GiB` : `${SIZE_MB} MiB`}`;
    out.rows.push(
      { benchmark: bench, metric: "throughput", unit: "MB/s", stowage: s, baseline: dd, baselineName: "dd conv=fsync", ratio: s / dd, target: "≥ 80 % of dd", met: judge(s / dd >= 0.8) },
      { benchmark: bench, metric: "throughput", unit: "MB/s", stowage: s, baseline: t, baselineName: "@tus/server FileStore", ratio: s / t, target: "ahead of tus", met: judge(s > t) },
      { benchmark: bench, metric: "throughput", unit: "MB/s", stowage: s, baseline: median(runs.sink), baselineName: "HTTP sink, no disk", ratio: s / median(runs.sink) },
      {
        benchmark: bench, metric: "peak RSS growth", unit: "MiB", stowage: stowageGrowth, baseline: tusGrowth, baselineName: "tus server",
        target: "< 64 MiB", met: judge(stowageGrowth < 64),
      },
    );
    out.notes.push(
      `local-put: ${RUNS} round(s) of one ${SIZE_MB} MiB upload each (dd, Stowage, tus and a discard-everything node:http sink in turn, \`sync\` before each), median; client streams zeros in 1 MiB chunks from the benchmark process; ` +
      `Stowage writes to a temp file with fsync on close then links it into place; dd uses conv=fsync; tus FileStore does not fsync (page cache only); ` +
      `RSS growth = VmHWM after the runs minus after a 16 MiB warm-up; data on ${process.env.BENCH_TMPDIR ?? tmpdir()}; ${pinningNote()}`,
    );
    out.raw = { sizeMiB: SIZE_MB, runs, stowageRssGrowthMiB: stowageGrowth, tusRssGrowthMiB: tusGrowth };
  } finally {
    await stowage.stop();
    await tus.stop(3000);
    await sink.stop(3000);
    rmSync(scratch, { recursive: true, force: true });
  }
  return out;
}

await main(import.meta.url, run);

/**
 * End to end, as a client sees it, once on the embedded default (local disk + SQLite) and once
 * in production mode (RGW + PostgreSQL):
 * - presign → PUT 1 MiB → confirm in plain HTTP, 50 clients looping concurrently for a fixed
 *   time: per-upload latency (p50/p95/p99) and uploads per second;
 * - the client SDK (`@stowage/client`, from a file path) against bare presigned PUTs of the same
 *   file to the same store at the same concurrency (presigned before the clock starts), for
 *   1 MiB and 100 MiB files: SDK time ÷ bare PUT time, in interleaved rounds.
 *
 *   npm run bench -- end-to-end
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { tempPostgres } from "./lib/databases.js";
import { confirmUpload, expectStatus, pngBytes, type PresignAnswer, request } from "./lib/http.js";
import { type BenchOutput, judge, main, output, progress } from "./lib/report.js";
import { collectGarbage, stowageS3Env, tempBucket } from "./lib/s3.js";
import { bareFlows, barePuts, benchFile, SDK_BENCH_POLICY, sdkUploads } from "./lib/sdk-vs-put.js";
import { MiB, pinningNote, RUNS, SECONDS, SMOKE, WARMUP_SECONDS } from "./lib/settings.js";
import { median, percentile } from "./lib/stats.js";
import { startStowage, type StowageServer } from "./lib/stowage.js";

const NAME = "end-to-end";
const CLIENTS = 50;
const BODY = pngBytes(1024 * 1024);

/** SDK vs bare PUT: uploads at once (the SDK's default part concurrency too), and the two file sizes with their goals. */
const SDK_CONCURRENCY = 4;
const SDK_CASES = [
  { label: "1 MiB", size: MiB, files: SMOKE ? 16 : 400, goal: 1.3 },
  // 4 files: one round of the three sides then holds 1.2 GiB (plus copies) of RGW's 4 GiB memstore.
  { label: SMOKE ? "10 MiB (smoke)" : "100 MiB", size: (SMOKE ? 10 : 100) * MiB, files: 4, goal: 1.05 },
];

interface Steps {
  presign: number[];
  put: number[];
  confirm: number[];
}

/** `CLIENTS` loops of presign → PUT → confirm until `seconds` are up; each upload's latency. */
async function loop(server: StowageServer, tag: string, seconds: number): Promise<{ latencies: number[]; steps: Steps; seconds: number }> {
  const latencies: number[] = [];
  const steps: Steps = { presign: [], put: [], confirm: [] };
  const start = performance.now();
  const end = start + seconds * 1000;
  await Promise.all(
    Array.from({ length: CLIENTS }, async (_, client) => {
      const token = await server.token(`e2e-${tag}-${client}`);
      while (performance.now() < end) {
        const t0 = performance.now();
        const upload = expectStatus(
          await request(`${server.baseUrl}/v1/uploads`, {
            method: "POST",
            headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
            body: JSON.stringify({ ownerType: "document", filename: "photo.png", contentType: "image/png", size: BODY.length }),
          }),
          201,
          "presign",
        ).json<PresignAnswer>();
        const t1 = performance.now();
        expectStatus(await request(upload.url, { method: "PUT", headers: upload.headers, body: BODY }), 200, "upload PUT");
        const t2 = performance.now();
        expectStatus(await confirmUpload(server.baseUrl, token, upload.id), 200, "confirm");
        const t3 = performance.now();
        latencies.push(t3 - t0);
        steps.presign.push(t1 - t0);
        steps.put.push(t2 - t1);
        steps.confirm.push(t3 - t2);
      }
    }),
  );
  return { latencies, steps, seconds: (performance.now() - start) / 1000 };
}

async function measure(server: StowageServer, label: string, between: () => Promise<void>) {
  if (!SMOKE) await loop(server, `${label}-warm`, WARMUP_SECONDS);
  await between();
  const runs: { p50: number; p95: number; p99: number; perSecond: number; count: number; stepP50: Record<keyof Steps, number> }[] = [];
  for (let round = 1; round <= RUNS; round++) {
    const { latencies, steps, seconds } = await loop(server, `${label}-${round}`, SECONDS);
    const result = {
      p50: percentile(latencies, 50),
      p95: percentile(latencies, 95),
      p99: percentile(latencies, 99),
      perSecond: latencies.length / seconds,
      count: latencies.length,
      stepP50: { presign: percentile(steps.presign, 50), put: percentile(steps.put, 50), confirm: percentile(steps.confirm, 50) },
    };
    runs.push(result);
    progress(NAME, `${label} run ${round}/${RUNS}: ${result.count} uploads, ${result.perSecond.toFixed(0)}/s, p50 ${result.p50.toFixed(1)} ms, p95 ${result.p95.toFixed(1)} ms`);
    await between();
  }
  return runs;
}

const CONFIG = { policies: { bench: SDK_BENCH_POLICY } };

/** SDK uploads against bare PUTs of the same file, interleaved round by round (the order swaps each round). */
async function sdkVersusBare(out: BenchOutput, server: StowageServer, label: string, between: () => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(process.env.BENCH_TMPDIR ?? tmpdir(), "sdk-bench-"));
  try {
    for (const c of SDK_CASES) {
      const path = benchFile(dir, c.size);
      const user = (side: string, round: number) => `sdk-${c.size}-${side}-${round}`;
      if (!SMOKE) {
        const warm = Math.max(SDK_CONCURRENCY, Math.floor(c.files / 4));
        await barePuts(server, user("bare", 0), path, c.size, warm, SDK_CONCURRENCY);
        await bareFlows(server, user("flow", 0), path, c.size, warm, SDK_CONCURRENCY);
        await bareFlows(server, user("fetch", 0), path, c.size, warm, SDK_CONCURRENCY, "fetch");
        await sdkUploads(server, user("sdk", 0), path, warm, SDK_CONCURRENCY);
        await between();
      }
      const bare: number[] = [];
      const flows: number[] = [];
      const sdk: number[] = [];
      const ratios: number[] = [];
      const flowRatios: number[] = [];
      const fetchFlows: number[] = [];
      const before: number[] = [];
      const after: number[] = [];
      for (let round = 1; round <= RUNS; round++) {
        const sides = [
          async () => bare.push(await barePuts(server, user("bare", round), path, c.size, c.files, SDK_CONCURRENCY)),
          async () => flows.push(await bareFlows(server, user("flow", round), path, c.size, c.files, SDK_CONCURRENCY)),
          async () => fetchFlows.push(await bareFlows(server, user("fetch", round), path, c.size, c.files, SDK_CONCURRENCY, "fetch")),
          async () => {
            const s = await sdkUploads(server, user("sdk", round), path, c.files, SDK_CONCURRENCY);
            sdk.push(s.ms);
            before.push(...s.before);
            after.push(...s.after);
          },
        ];
        // Each side goes first in turn: whoever runs right after another inherits its leftovers.
        for (let i = 0; i < sides.length; i++) await sides[(i + round) % sides.length]?.();
        const [b, f, s] = [bare.at(-1) ?? NaN, flows.at(-1) ?? NaN, sdk.at(-1) ?? NaN];
        ratios.push(s / b);
        flowRatios.push(s / f);
        const byHand = `presign → PUT → confirm by hand ${f.toFixed(0)} ms (×${(s / f).toFixed(2)}), over fetch ${fetchFlows.at(-1)?.toFixed(0)} ms`;
        progress(NAME, `${label}, ${c.label} × ${c.files}: SDK ${s.toFixed(0)} ms, bare PUT ${b.toFixed(0)} ms (×${(s / b).toFixed(2)}), ${byHand}`);
        await between();
      }
      const ratio = median(ratios);
      out.rows.push(
        {
          benchmark: `SDK vs bare PUT, ${label}`,
          metric: `${c.files} files of ${c.label}, ${SDK_CONCURRENCY} at once`,
          unit: "ms",
          stowage: median(sdk),
          baseline: median(bare),
          baselineName: "bare PUT",
          ratio,
          target: `≤ ×${c.goal}`,
          met: judge(ratio <= c.goal),
        },
        {
          benchmark: `SDK vs bare PUT, ${label}`,
          metric: `the same, against presign → PUT → confirm by hand`,
          unit: "ms",
          stowage: median(sdk),
          baseline: median(flows),
          baselineName: "by hand",
          ratio: median(flowRatios),
        },
        {
          benchmark: `SDK vs bare PUT, ${label}`,
          metric: `the same, against it by hand over fetch`,
          unit: "ms",
          stowage: median(sdk),
          baseline: median(fetchFlows),
          baselineName: "fetch by hand",
          ratio: median(sdk) / median(fetchFlows),
        },
      );
      out.raw[`sdk ${label} ${c.label}`] = { sdk, bare, flows, fetchFlows, ratios, flowRatios };
      out.notes.push(
        `SDK vs bare PUT, ${label}, ${c.label}: per SDK upload, p50 ${percentile(before, 50).toFixed(1)} ms before its first byte ` +
        `(policy check, presign) and ${percentile(after, 50).toFixed(1)} ms after its last (PUT answer, confirm)`,
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function run() {
  const out = output(NAME);
  type Started = { server: StowageServer; between: () => Promise<void>; cleanup: () => Promise<void> };
  const variants: { label: string; start: () => Promise<Started> }[] = [
    {
      label: "local disk + SQLite",
      start: async () => ({
        server: await startStowage("e2e-local-sqlite", {}, { configFile: CONFIG }),
        between: async () => undefined,
        cleanup: async () => undefined,
      }),
    },
    {
      label: "RGW + PostgreSQL",
      start: async () => {
        const bucket = await tempBucket();
        const pg = await tempPostgres();
        try {
          const server = await startStowage("e2e-s3-postgres", { ...stowageS3Env(bucket.name), DATABASE_URL: pg.url }, { configFile: CONFIG });
          // RGW here keeps objects in memory: empty the bucket between runs, and free the space at once.
          const between = async () => void (await bucket.empty(), collectGarbage());
          return { server, between, cleanup: async () => void (await bucket.drop(), await pg.drop()) };
        } catch (error) {
          await bucket.drop();
          await pg.drop();
          throw error;
        }
      },
    },
  ];
  for (const variant of variants) {
    const { server, between, cleanup } = await variant.start();
    try {
      const runs = await measure(server, variant.label, between);
      const p95 = median(runs.map((r) => r.p95));
      const bench = `end-to-end, ${variant.label}`;
      out.rows.push(
        { benchmark: bench, metric: `p50 per upload, ${CLIENTS} clients`, unit: "ms", stowage: median(runs.map((r) => r.p50)) },
        { benchmark: bench, metric: `p95 per upload, ${CLIENTS} clients`, unit: "ms", stowage: p95, target: "< 50 ms", met: judge(p95 < 50) },
        { benchmark: bench, metric: "uploads per second", unit: "/s", stowage: median(runs.map((r) => r.perSecond)) },
      );
      out.raw[variant.label] = runs;
      const step = (k: "presign" | "put" | "confirm") => median(runs.map((r) => r.stepP50[k])).toFixed(1);
      out.notes.push(`end-to-end, ${variant.label}: p50 of each step: presign ${step("presign")} ms, PUT ${step("put")} ms, confirm ${step("confirm")} ms`);
      await sdkVersusBare(out, server, variant.label, between);
    } finally {
      await server.stop();
      await cleanup();
    }
  }
  out.notes.push(
    `SDK vs bare PUT: the same file from disk, ${SDK_CONCURRENCY} uploads at once on both sides, in the benchmark process; bare = presigned ` +
    "PUTs over node:http (presigned before the clock starts, never confirmed); SDK = createClient().upload(path) (fetch, policy check, presign, " +
    `PUT, confirm; one PUT per file, as the policy sets no multipart threshold below 5 TiB); ratio = median over ${RUNS} interleaved round(s) of SDK ÷ bare`,
  );
  out.notes.push(
    `end-to-end: ${CLIENTS} concurrent client loops in the benchmark process (presign, PUT 1 MiB PNG with the returned headers, confirm; plain HTTP keep-alive), ` +
    `${SMOKE ? "" : `${WARMUP_SECONDS} s warm-up, `}${RUNS} run(s) of ${SECONDS} s, median of each run's percentiles; ${pinningNote()}`,
  );
  return out;
}

await main(import.meta.url, run);

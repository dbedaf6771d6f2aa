/**
 * End to end, as a client sees it: presign → PUT 1 MiB → confirm, 50 clients looping
 * concurrently for a fixed time, per-upload latency (p50/p95/p99) and uploads per second. Once on
 * the embedded default (local disk + SQLite) and once in production mode (RGW + PostgreSQL).
 * The client is plain HTTP from the benchmark process (the repository has no client SDK).
 *
 *   npm run bench -- end-to-end
 */
import { tempPostgres } from "./lib/databases.js";
import { confirmUpload, expectStatus, pngBytes, type PresignAnswer, request } from "./lib/http.js";
import { judge, main, output, progress } from "./lib/report.js";
import { stowageS3Env, tempBucket } from "./lib/s3.js";
import { pinningNote, RUNS, SECONDS, SMOKE, WARMUP_SECONDS } from "./lib/settings.js";
import { median, percentile } from "./lib/stats.js";
import { startStowage, type StowageServer } from "./lib/stowage.js";

const NAME = "end-to-end";
const CLIENTS = 50;
const BODY = pngBytes(1024 * 1024);

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

async function run() {
  const out = output(NAME);
  type Started = { server: StowageServer; between: () => Promise<void>; cleanup: () => Promise<void> };
  const variants: { label: string; start: () => Promise<Started> }[] = [
    {
      label: "local disk + SQLite",
      start: async () => ({ server: await startStowage("e2e-local-sqlite"), between: async () => undefined, cleanup: async () => undefined }),
    },
    {
      label: "RGW + PostgreSQL",
      start: async () => {
        const bucket = await tempBucket();
        const pg = await tempPostgres();
        try {
          const server = await startStowage("e2e-s3-postgres", { ...stowageS3Env(bucket.name), DATABASE_URL: pg.url });
          // RGW here keeps objects in memory: empty the bucket between runs.
          return { server, between: () => bucket.empty(), cleanup: async () => void (await bucket.drop(), await pg.drop()) };
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
    } finally {
      await server.stop();
      await cleanup();
    }
  }
  out.notes.push(
    `end-to-end: ${CLIENTS} concurrent client loops in the benchmark process (presign, PUT 1 MiB PNG with the returned headers, confirm; plain HTTP keep-alive, no SDK), ` +
    `${SMOKE ? "" : `${WARMUP_SECONDS} s warm-up, `}${RUNS} run(s) of ${SECONDS} s, median of each run's percentiles; ${pinningNote()}`,
  );
  return out;
}

await main(import.meta.url, run);

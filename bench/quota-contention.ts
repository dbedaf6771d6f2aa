/**
 * Quota contention: 200 concurrent confirms charging one user's quota, against the same 200 on
 * 200 different users (PostgreSQL, local storage). The one user's quota holds only 150 of the
 * uploads, so the race is real: exactly 150 must be confirmed and 50 refused, and the charged
 * bytes must never exceed the limit (0 overshoot). p99 of each, and their ratio.
 *
 *   npm run bench -- quota-contention
 */
import { tempPostgres } from "./lib/databases.js";
import { confirmUpload, expectStatus, pngBytes, presignAndPut, type PresignAnswer, request } from "./lib/http.js";
import { judge, main, output, progress } from "./lib/report.js";
import { pinningNote, RUNS, SMOKE } from "./lib/settings.js";
import { median, percentile } from "./lib/stats.js";
import { startStowage, type StowageServer } from "./lib/stowage.js";

const NAME = "quota-contention";
const CONCURRENT = SMOKE ? 40 : 200;
const FITS = SMOKE ? 30 : 150;
const OBJECT = pngBytes(4096);
const LIMIT = FITS * OBJECT.length;

interface Batch {
  latencies: number[];
  statuses: Record<string, number>;
}

/** Presign + PUT for each (user, index), eight at a time. */
async function prepare(server: StowageServer, users: string[]): Promise<{ user: string; token: string; upload: PresignAnswer }[]> {
  const out: { user: string; token: string; upload: PresignAnswer }[] = [];
  let next = 0;
  const worker = async () => {
    while (next < users.length) {
      const user = users[next++] as string;
      const token = await server.token(user);
      out.push({ user, token, upload: await presignAndPut(server.baseUrl, token, { ownerType: "document", filename: "page.png", contentType: "image/png" }, OBJECT) });
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  return out;
}

/** Every confirm at once, each timed from its own start; sockets opened beforehand. */
async function fire(server: StowageServer, items: { token: string; upload: PresignAnswer }[]): Promise<Batch> {
  await Promise.all(items.map(() => request(`${server.baseUrl}/healthz`)));
  const statuses: Record<string, number> = {};
  const latencies = await Promise.all(
    items.map(async ({ token, upload }) => {
      const start = performance.now();
      const answer = await confirmUpload(server.baseUrl, token, upload.id);
      const ms = performance.now() - start;
      statuses[answer.status] = (statuses[answer.status] ?? 0) + 1;
      return ms;
    }),
  );
  return { latencies, statuses };
}

async function run() {
  const out = output(NAME);
  const pg = await tempPostgres();
  const server = await startStowage("quota-contention-postgres", { DATABASE_URL: pg.url, STOWAGE_DEFAULT_QUOTA_BYTES: String(LIMIT) }).catch(async (error: unknown) => {
    await pg.drop();
    throw error;
  });
  const hot: Batch[] = [];
  const cold: Batch[] = [];
  let overshoot = 0;
  try {
    for (let round = SMOKE ? 1 : 0; round <= RUNS; round++) {
      const warm = round === 0;
      const n = warm ? 20 : CONCURRENT;
      progress(NAME, `${warm ? "warm-up" : `run ${round}/${RUNS}`}: preparing ${n} uploads for one user and ${n} for ${n} users`);
      const hotUser = `hot-${round}`;
      const hotItems = await prepare(server, Array.from({ length: n }, () => hotUser));
      const coldItems = await prepare(server, Array.from({ length: n }, (_, i) => `cold-${round}-${i}`));
      // Alternate which goes first, so neither always meets a fresher database.
      const order = round % 2 === 1 ? ["hot", "cold"] : ["cold", "hot"];
      let hotBatch: Batch | undefined;
      let coldBatch: Batch | undefined;
      for (const which of order) {
        if (which === "hot") hotBatch = await fire(server, hotItems);
        else coldBatch = await fire(server, coldItems);
      }
      if (hotBatch === undefined || coldBatch === undefined) throw new Error("unreachable");

      // Correctness: charged bytes never above the limit, and exactly what the 200s say.
      const token = await server.token(hotUser);
      const quota = expectStatus(await request(`${server.baseUrl}/v1/quota`, { headers: { authorization: `Bearer ${token}` } }), 200, "quota")
        .json<{ usedBytes: number; limitBytes: number }>();
      const confirmed = hotBatch.statuses["200"] ?? 0;
      const refused = hotBatch.statuses["413"] ?? 0;
      const expectConfirmed = Math.min(n, FITS);
      const label = warm ? "warm-up" : `run ${round}`;
      overshoot = Math.max(overshoot, quota.usedBytes - quota.limitBytes);
      if (quota.usedBytes > quota.limitBytes) out.failures.push(`${label}: OVERSHOOT: used ${quota.usedBytes} > limit ${quota.limitBytes}`);
      if (quota.usedBytes !== confirmed * OBJECT.length) out.failures.push(`${label}: charged ${quota.usedBytes} bytes but ${confirmed} confirms × ${OBJECT.length} = ${confirmed * OBJECT.length}`);
      if (confirmed !== expectConfirmed || confirmed + refused !== n) {
        out.failures.push(`${label}: one user: expected ${expectConfirmed} confirmed and ${n - expectConfirmed} refused (413), got ${JSON.stringify(hotBatch.statuses)}`);
      }
      if ((coldBatch.statuses["200"] ?? 0) !== n) out.failures.push(`${label}: 200 users: expected ${n} confirmed, got ${JSON.stringify(coldBatch.statuses)}`);
      if (!warm) {
        hot.push(hotBatch);
        cold.push(coldBatch);
        progress(
          NAME,
          `run ${round}/${RUNS}: one user p99 ${percentile(hotBatch.latencies, 99).toFixed(1)} ms (${confirmed} confirmed, ${refused} refused, used ${quota.usedBytes}/${quota.limitBytes}); ` +
          `${n} users p99 ${percentile(coldBatch.latencies, 99).toFixed(1)} ms`,
        );
      }
    }
  } finally {
    await server.stop();
    await pg.drop();
  }
  const hotP99 = median(hot.map((b) => percentile(b.latencies, 99)));
  const coldP99 = median(cold.map((b) => percentile(b.latencies, 99)));
  const hotP50 = median(hot.map((b) => percentile(b.latencies, 50)));
  const coldP50 = median(cold.map((b) => percentile(b.latencies, 50)));
  const bench = `quota contention (${CONCURRENT} confirms, PostgreSQL)`;
  const users = `${CONCURRENT} users`;
  out.rows.push(
    { benchmark: bench, metric: `p50, one user vs ${users}`, unit: "ms", stowage: hotP50, baseline: coldP50, baselineName: users, ratio: hotP50 / coldP50 },
    {
      benchmark: bench, metric: `p99, one user vs ${users}`, unit: "ms", stowage: hotP99, baseline: coldP99, baselineName: users, ratio: hotP99 / coldP99,
      target: "≤ 3× uncontended", met: judge(hotP99 / coldP99 <= 3),
    },
    {
      benchmark: bench, metric: "quota overshoot, worst run", unit: "B", stowage: Math.max(0, overshoot),
      target: "0", met: overshoot > 0 ? false : SMOKE ? undefined : true,
    },
  );
  out.notes.push(
    `quota-contention: per run ${CONCURRENT} fresh 4 KiB PNG uploads (local disk) for one user whose quota fits ${FITS} of them, and ${CONCURRENT} for ${CONCURRENT} users; ` +
    `all confirms of a batch sent at once over pre-opened keep-alive sockets, latency per request, order alternated per run; ${RUNS} run(s), median of each run's percentile; ` +
    `every run checks used ≤ limit, used = confirmed × size, and exactly ${FITS} confirmed; ${pinningNote()}`,
  );
  out.raw = { hot, cold };
  return out;
}

await main(import.meta.url, run);

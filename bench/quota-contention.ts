/**
 * Quota contention, where it is: presign reserves the declared size against the quota
 * (`used + reserved + size <= limit`), so concurrent uploads for one user race at presign, and
 * confirm only turns a reservation into usage (a reserved upload always fits).
 *
 * Per run (PostgreSQL, local storage): 200 presigns sent at once for ONE user whose quota fits
 * 150 of them — exactly 150 must answer 201 and 50 `413 QUOTA_EXCEEDED` — against 200 presigns
 * for 200 different users (all 201). Then the accepted uploads are PUT (not timed) and
 * confirmed all at once: the one user's 150 against 150 of the 200 users (one each), all 200 OK.
 * Afterwards the one user's `GET /v1/quota` must show `usedBytes` = 150 × size, `reservedBytes`
 * 0, and used ≤ limit (0 overshoot). Reported: presign and confirm p50/p99, one user vs many
 * users, and their ratios. Smoke: 40 presigns, 30 fit.
 *
 *   npm run bench -- quota-contention
 */
import { tempPostgres } from "./lib/databases.js";
import { type Batch, errorCode, type Fired, fire, putAll } from "./lib/burst.js";
import { type Answer, confirmUpload, expectStatus, pngBytes, type PresignAnswer, request } from "./lib/http.js";
import { judge, main, output, progress } from "./lib/report.js";
import { pinningNote, RUNS, SMOKE } from "./lib/settings.js";
import { median, percentile } from "./lib/stats.js";
import { startStowage, type StowageServer } from "./lib/stowage.js";

const NAME = "quota-contention";
/** Presigns per batch, on each side. */
const CONCURRENT = SMOKE ? 40 : 200;
/** How many of the one user's presigns the quota holds (and so how many confirms on each side). */
const FITS = SMOKE ? 30 : 150;
const OBJECT = pngBytes(4096);
const LIMIT = FITS * OBJECT.length;
/** The default per-user pending cap (100) would refuse the one user's presigns past 100 with 429. */
const MAX_PENDING = 100_000;

interface Quota {
  usedBytes: number;
  reservedBytes: number;
  limitBytes: number;
  pendingUploads: number;
}

function presignRequest(server: StowageServer, token: string): Promise<Answer> {
  return request(`${server.baseUrl}/v1/uploads`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify({ ownerType: "document", filename: "page.png", contentType: "image/png", size: OBJECT.length }),
  });
}

async function quotaOf(server: StowageServer, user: string): Promise<Quota> {
  const token = await server.token(user);
  return expectStatus(await request(`${server.baseUrl}/v1/quota`, { headers: { authorization: `Bearer ${token}` } }), 200, "quota").json<Quota>();
}

const strip = ({ latencies, statuses }: Batch): Batch => ({ latencies, statuses });

async function run() {
  const out = output(NAME);
  const pg = await tempPostgres();
  const server = await startStowage("quota-contention-postgres", {
    DATABASE_URL: pg.url,
    STOWAGE_DEFAULT_QUOTA_BYTES: String(LIMIT),
    STOWAGE_MAX_PENDING_UPLOADS: String(MAX_PENDING),
  }).catch(async (error: unknown) => {
    await pg.drop();
    throw error;
  });
  const hotPresign: Batch[] = [];
  const coldPresign: Batch[] = [];
  const hotConfirm: Batch[] = [];
  const coldConfirm: Batch[] = [];
  let overshoot = 0;
  const size = OBJECT.length;
  try {
    // Round 0 is a full-size warm-up (checked, not recorded); a smoke has none.
    for (let round = SMOKE ? 1 : 0; round <= RUNS; round++) {
      const warm = round === 0;
      const label = warm ? "warm-up" : `run ${round}`;
      const hotUser = `hot-${round}`;
      const coldUsers = Array.from({ length: CONCURRENT }, (_, i) => `cold-${round}-${i}`);
      const hotToken = await server.token(hotUser);
      const coldTokens = await Promise.all(coldUsers.map((user) => server.token(user)));
      // Alternate which side goes first, so neither always meets a fresher database.
      const hotFirst = round % 2 === 1;
      progress(NAME, `${label}${warm ? "" : `/${RUNS}`}: ${CONCURRENT} presigns for one user (quota fits ${FITS}), ${CONCURRENT} for ${CONCURRENT} users`);

      // 1. Presigns, all at once: the race for the one user's quota.
      let hotP: Fired | undefined;
      let coldP: Fired | undefined;
      for (const which of hotFirst ? ["hot", "cold"] : ["cold", "hot"]) {
        if (which === "hot") hotP = await fire(server.baseUrl, CONCURRENT, () => presignRequest(server, hotToken));
        else coldP = await fire(server.baseUrl, CONCURRENT, (i) => presignRequest(server, coldTokens[i] as string));
      }
      if (hotP === undefined || coldP === undefined) throw new Error("unreachable");

      const accepted = hotP.answers.filter((a) => a.status === 201).map((a) => a.json<PresignAnswer>());
      const refusedQuota = hotP.answers.filter((a) => a.status === 413 && errorCode(a) === "QUOTA_EXCEEDED").length;
      if (accepted.length !== FITS || refusedQuota !== CONCURRENT - FITS) {
        const other = hotP.answers.find((a) => a.status !== 201 && !(a.status === 413 && errorCode(a) === "QUOTA_EXCEEDED"));
        out.failures.push(
          `${label}: one user: expected ${FITS} presigns 201 and ${CONCURRENT - FITS} 413 QUOTA_EXCEEDED, got ${JSON.stringify(hotP.statuses)}` +
          `${other === undefined ? "" : `; e.g. ${other.status} ${other.body.toString().slice(0, 300)}`}`,
        );
      }
      if ((coldP.statuses["201"] ?? 0) !== CONCURRENT) {
        const other = coldP.answers.find((a) => a.status !== 201);
        out.failures.push(
          `${label}: ${CONCURRENT} users: expected ${CONCURRENT} presigns 201, got ${JSON.stringify(coldP.statuses)}` +
          `${other === undefined ? "" : `; e.g. ${other.status} ${other.body.toString().slice(0, 300)}`}`,
        );
      }
      const reserved = await quotaOf(server, hotUser);
      const held = accepted.length * size;
      if (reserved.usedBytes !== 0 || reserved.reservedBytes !== held || held > reserved.limitBytes) {
        out.failures.push(
          `${label}: after presign the one user's quota is ${JSON.stringify(reserved)}, expected used 0 and reserved ${accepted.length} × ${size} = ${held} ≤ limit`,
        );
      }

      // 2. PUT what was accepted (the cold side: one upload each of the first FITS users).
      const coldAccepted = coldP.answers.slice(0, FITS).filter((a) => a.status === 201).map((a) => a.json<PresignAnswer>());
      await putAll([...accepted, ...coldAccepted], OBJECT);

      // 3. Confirms, all at once: each a reservation turned into usage.
      let hotC: Fired | undefined;
      let coldC: Fired | undefined;
      const confirmHot = (i: number) => confirmUpload(server.baseUrl, hotToken, (accepted[i] as PresignAnswer).id);
      const confirmCold = (i: number) => confirmUpload(server.baseUrl, coldTokens[i] as string, (coldAccepted[i] as PresignAnswer).id);
      for (const which of hotFirst ? ["hot", "cold"] : ["cold", "hot"]) {
        if (which === "hot") hotC = await fire(server.baseUrl, accepted.length, confirmHot);
        else coldC = await fire(server.baseUrl, coldAccepted.length, confirmCold);
      }
      if (hotC === undefined || coldC === undefined) throw new Error("unreachable");
      for (const [who, batch, expected] of [["one user", hotC, accepted.length], [`${FITS} users`, coldC, coldAccepted.length]] as const) {
        if ((batch.statuses["200"] ?? 0) !== expected) {
          const other = batch.answers.find((a) => a.status !== 200);
          out.failures.push(
            `${label}: ${who}: expected all ${expected} confirms 200, got ${JSON.stringify(batch.statuses)}` +
            `${other === undefined ? "" : `; e.g. ${other.status} ${other.body.toString().slice(0, 300)}`}`,
          );
        }
      }

      // 4. Correctness: charged exactly what fit, nothing left reserved, never above the limit.
      const quota = await quotaOf(server, hotUser);
      overshoot = Math.max(overshoot, quota.usedBytes + quota.reservedBytes - quota.limitBytes);
      if (quota.usedBytes + quota.reservedBytes > quota.limitBytes) {
        out.failures.push(`${label}: OVERSHOOT: used ${quota.usedBytes} + reserved ${quota.reservedBytes} > limit ${quota.limitBytes}`);
      }
      if (quota.usedBytes !== FITS * size || quota.reservedBytes !== 0 || quota.pendingUploads !== 0) {
        out.failures.push(
          `${label}: after confirm the one user's quota is ${JSON.stringify(quota)}, expected used ${FITS} × ${size} = ${FITS * size}, reserved 0, pending 0`,
        );
      }

      if (!warm) {
        hotPresign.push(strip(hotP));
        coldPresign.push(strip(coldP));
        hotConfirm.push(strip(hotC));
        coldConfirm.push(strip(coldC));
        const p = (b: Batch, q: number) => percentile(b.latencies, q).toFixed(1);
        progress(
          NAME,
          `run ${round}/${RUNS}: presign p99 one user ${p(hotP, 99)} ms (${accepted.length} reserved, ${refusedQuota} refused) vs ${CONCURRENT} users ${p(coldP, 99)} ms; ` +
          `confirm p99 one user ${p(hotC, 99)} ms vs ${coldAccepted.length} users ${p(coldC, 99)} ms; used ${quota.usedBytes}/${quota.limitBytes}, reserved ${quota.reservedBytes}`,
        );
      }
    }
  } finally {
    await server.stop();
    await pg.drop();
  }

  const at = (batches: Batch[], q: number) => median(batches.map((b) => percentile(b.latencies, q)));
  const bench = `quota contention (${CONCURRENT} presigns, ${FITS} fit, PostgreSQL)`;
  const presignUsers = `${CONCURRENT} users`;
  const confirmUsers = `${FITS} users`;
  const row = (metric: string, hot: Batch[], cold: Batch[], q: number, baselineName: string) => {
    const stowage = at(hot, q);
    const baseline = at(cold, q);
    return { benchmark: bench, metric, unit: "ms", stowage, baseline, baselineName, ratio: stowage / baseline };
  };
  const presignP99 = row(`presign p99, one user vs ${presignUsers}`, hotPresign, coldPresign, 99, presignUsers);
  out.rows.push(
    row(`presign p50, one user vs ${presignUsers}`, hotPresign, coldPresign, 50, presignUsers),
    { ...presignP99, target: "≤ 3× uncontended", met: judge(presignP99.ratio <= 3) },
    row(`confirm p50, one user vs ${confirmUsers}`, hotConfirm, coldConfirm, 50, confirmUsers),
    row(`confirm p99, one user vs ${confirmUsers}`, hotConfirm, coldConfirm, 99, confirmUsers),
    {
      benchmark: bench, metric: "quota overshoot, worst run", unit: "B", stowage: Math.max(0, overshoot),
      target: "0", met: overshoot > 0 ? false : SMOKE ? undefined : true,
    },
  );
  out.notes.push(
    `quota-contention: per run, ${CONCURRENT} presigns of a 4 KiB PNG (local disk, PostgreSQL) for one user whose quota fits ${FITS} of them ` +
    `(presign reserves the size), against ${CONCURRENT} presigns for ${CONCURRENT} users; then the accepted uploads are PUT (not timed) and confirmed: ` +
    `the one user's ${FITS} against ${FITS} of the ${CONCURRENT} users' (one each). Every batch is sent at once over pre-opened keep-alive sockets, ` +
    `latency per request, side order alternated per run; ${RUNS} run(s)${SMOKE ? "" : " after a full-size warm-up"}, median of each run's percentile. ` +
    `The one user's batch is ${FITS} reservations and ${CONCURRENT - FITS} refusals. Every run checks exactly ${FITS} presigns 201 and ` +
    `${CONCURRENT - FITS} 413 QUOTA_EXCEEDED, all confirms 200, and afterwards GET /v1/quota: used = ${FITS} × 4096, reserved 0, used ≤ limit. ` +
    `STOWAGE_MAX_PENDING_UPLOADS raised from 100 to ${MAX_PENDING} so only the quota refuses; ${pinningNote()}`,
  );
  out.raw = { hotPresign, coldPresign, hotConfirm, coldConfirm };
  return out;
}

await main(import.meta.url, run);

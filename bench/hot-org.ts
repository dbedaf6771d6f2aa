/**
 * A hot organization (issue 15, item 4), on PostgreSQL: every confirm turns its upload's
 * reservation into usage on two quota rows, its user's and its organization's, so the confirms
 * of one organization's users all update one row. Per run, `USERS` users of ONE organization
 * confirm one upload each, all at once, against `USERS` users of as many organizations (the
 * baseline, in the same run, side order alternated per run). Measured twice:
 * - store: `confirmUpload` called in process (one `pg` pool of 10, as the server opens), so
 *   the figure is the database's and not the HTTP server's single core;
 * - HTTP: presign (not timed), PUT (not timed) and `POST /v1/uploads/:id/confirm` through the real
 *   `stowage serve` (local storage), tokens carrying the `org` claim.
 * Reported: confirms per second (the batch over its wall time) and p50/p99 latency. The
 * organization's limit fits exactly its `USERS` uploads; after every batch its quota row must
 * show used = `USERS` × size, reserved 0, pending 0 (no overshoot, nothing lost), and a baseline
 * organization its one upload's. Target: ≥ 1,000 confirms/s for one organization.
 *
 *   npm run bench -- hot-org
 */
import { loadavg } from "node:os";
import { mintToken } from "../src/auth/jwt.js";
import { openPostgresStore } from "../src/store/postgres.js";
import type { QuotaCharge } from "../src/store/quota.js";
import type { MetadataStore } from "../src/store/store.js";
import type { NewUpload } from "../src/uploads/record.js";
import { newUploadId } from "../src/uploads/upload-id.js";
import { type Batch, fire, putAll } from "./lib/burst.js";
import { tempPostgres } from "./lib/databases.js";
import { type Answer, confirmUpload, expectStatus, pngBytes, type PresignAnswer, request } from "./lib/http.js";
import { judge, main, output, progress } from "./lib/report.js";
import { pinningNote, RUNS, SMOKE } from "./lib/settings.js";
import { median, percentile } from "./lib/stats.js";
import { JWT_SECRET, startStowage, type StowageServer } from "./lib/stowage.js";

const NAME = "hot-org";
/** Users confirming at once, on each side. */
const USERS = SMOKE ? 40 : 200;
const OBJECT = pngBytes(4096);
const SIZE = OBJECT.length;
/** The organization's quota fits exactly its users' uploads: any overshoot or double charge shows. */
const ORG_LIMIT = USERS * SIZE;
const USER_LIMIT = 2 ** 40;

interface Timed extends Batch {
  wallMs: number;
}

interface OrgUsage {
  usedBytes: number;
  reservedBytes: number;
  pendingUploads?: number | undefined;
  limitBytes: number;
}

/** Which users confirm, and in which organization each is. */
interface Side {
  users: string[];
  orgOf: (i: number) => string;
}

function sides(round: number): { hot: Side; cold: Side } {
  const users = (side: string) => Array.from({ length: USERS }, (_, i) => `${side}-${round}-${i}`);
  return {
    hot: { users: users("hot"), orgOf: () => `hot-${round}` },
    cold: { users: users("cold"), orgOf: (i) => `cold-${round}-${i}` },
  };
}

function chargesOf(user: string, org: string): QuotaCharge[] {
  return [
    { subject: `user:${user}`, defaultLimitBytes: USER_LIMIT, maxPending: 100_000 },
    { subject: `org:${org}`, defaultLimitBytes: ORG_LIMIT },
  ];
}

function newUpload(user: string, org: string): NewUpload {
  const id = newUploadId();
  const now = new Date();
  return {
    id, userId: user, orgId: org, ownerType: "document", ownerId: undefined, bucket: "private", key: `documents/${user}/${id}.png`,
    staging: undefined, method: "put", filename: "page.png", contentType: "image/png",
    declaredSize: SIZE, createdAt: now, expiresAt: new Date(now.getTime() + 300_000), multipart: undefined,
  };
}

/** The store side: presigns (not timed), then every confirm at once. */
async function storeBatch(store: MetadataStore, side: Side): Promise<Timed> {
  const created = await Promise.all(side.users.map(async (user, i) => {
    const org = side.orgOf(i);
    const outcome = await store.createUpload({ upload: newUpload(user, org), reserve: chargesOf(user, org), now: new Date() });
    if (outcome.kind !== "created") throw new Error(`presign refused: ${JSON.stringify(outcome)}`);
    return outcome.upload;
  }));
  const statuses: Record<string, number> = {};
  const start = performance.now();
  const latencies = await Promise.all(created.map(async (upload, i) => {
    const sent = performance.now();
    const charges = chargesOf(upload.userId, side.orgOf(i));
    const outcome = await store.confirmUpload({ id: upload.id, from: ["pending"], size: SIZE, etag: "\"e\"", charges, now: new Date() });
    statuses[outcome.kind] = (statuses[outcome.kind] ?? 0) + 1;
    return performance.now() - sent;
  }));
  return { latencies, statuses, wallMs: performance.now() - start };
}

async function storeOrgUsage(store: MetadataStore, org: string): Promise<OrgUsage> {
  return store.usage({ subject: `org:${org}`, defaultLimitBytes: ORG_LIMIT });
}

function presign(server: StowageServer, token: string): Promise<Answer> {
  return request(`${server.baseUrl}/v1/uploads`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify({ ownerType: "document", filename: "page.png", contentType: "image/png", size: SIZE }),
  });
}

function tokensOf(side: Side): Promise<string[]> {
  return Promise.all(
    side.users.map((user, i) => mintToken({ secret: JWT_SECRET, subject: user, org: side.orgOf(i), expiresInSeconds: 3600 })),
  );
}

/** The HTTP side: presigns and PUTs (not timed), then every confirm at once. */
async function httpBatch(server: StowageServer, tokens: readonly string[]): Promise<Timed> {
  const presigned = await fire(server.baseUrl, tokens.length, (i) => presign(server, tokens[i] as string));
  const uploads = presigned.answers.map((a) => expectStatus(a, 201, "presign").json<PresignAnswer>());
  await putAll(uploads, OBJECT);
  const confirm = (i: number) => confirmUpload(server.baseUrl, tokens[i] as string, (uploads[i] as PresignAnswer).id);
  const confirmed = await fire(server.baseUrl, uploads.length, confirm);
  return { latencies: confirmed.latencies, statuses: confirmed.statuses, wallMs: confirmed.wallMs };
}

async function httpOrgUsage(server: StowageServer, token: string): Promise<OrgUsage> {
  const answer = expectStatus(await request(`${server.baseUrl}/v1/quota`, { headers: { authorization: `Bearer ${token}` } }), 200, "quota");
  const org = answer.json<{ org?: OrgUsage }>().org;
  if (org === undefined) throw new Error("GET /v1/quota answered no org");
  return org;
}

const rate = (b: Timed) => (b.latencies.length * 1000) / b.wallMs;

async function run() {
  const out = output(NAME);
  const [storeDb, httpDb] = await Promise.all([tempPostgres(), tempPostgres()]);
  const store = openPostgresStore(storeDb.url);
  let server: StowageServer | undefined;
  const results = { store: { hot: [] as Timed[], cold: [] as Timed[] }, http: { hot: [] as Timed[], cold: [] as Timed[] } };
  const loads: number[] = [];
  let overshoot = 0;
  try {
    await store.migrate();
    server = await startStowage("hot-org-postgres", { DATABASE_URL: httpDb.url, STOWAGE_DEFAULT_ORG_QUOTA_BYTES: String(ORG_LIMIT) });
    // The hot org holds all its users' uploads, each cold org one.
    const check = (label: string, side: Side, usage: OrgUsage) => {
      const uploads = side.users.filter((_, i) => side.orgOf(i) === side.orgOf(0)).length;
      overshoot = Math.max(overshoot, usage.usedBytes + usage.reservedBytes - usage.limitBytes);
      const exact = usage.usedBytes === uploads * SIZE && usage.reservedBytes === 0 && (usage.pendingUploads ?? 0) === 0;
      if (!exact || usage.limitBytes !== ORG_LIMIT) {
        out.failures.push(`${label}: org ${side.orgOf(0)}: ${JSON.stringify(usage)}, expected used ${uploads} × ${SIZE}, reserved 0, pending 0`);
      }
    };
    const expectAll = (label: string, batch: Timed, status: string) => {
      if ((batch.statuses[status] ?? 0) !== USERS) out.failures.push(`${label}: expected ${USERS} × ${status}, got ${JSON.stringify(batch.statuses)}`);
    };
    for (let round = SMOKE ? 1 : 0; round <= RUNS; round++) {
      const warm = round === 0;
      const label = warm ? "warm-up" : `run ${round}/${RUNS}`;
      const { hot, cold } = sides(round);
      const hotFirst = round % 2 === 1;
      const order = hotFirst ? (["hot", "cold"] as const) : (["cold", "hot"] as const);
      const storeRound: Record<string, Timed> = {};
      for (const which of order) {
        const side = which === "hot" ? hot : cold;
        storeRound[which] = await storeBatch(store, side);
        expectAll(`${label} store ${which}`, storeRound[which], "confirmed");
        check(`${label} store ${which}`, side, await storeOrgUsage(store, side.orgOf(0)));
      }
      const httpRound: Record<string, Timed> = {};
      for (const which of order) {
        const side = which === "hot" ? hot : cold;
        const tokens = await tokensOf(side);
        httpRound[which] = await httpBatch(server, tokens);
        expectAll(`${label} http ${which}`, httpRound[which], "200");
        check(`${label} http ${which}`, side, await httpOrgUsage(server, tokens[0] as string));
      }
      const [sh, sc, hh, hc] = [storeRound.hot, storeRound.cold, httpRound.hot, httpRound.cold] as Timed[] as [Timed, Timed, Timed, Timed];
      const load = loadavg()[0] ?? 0;
      progress(
        NAME,
        `${label}: store ${rate(sh).toFixed(0)}/s (p99 ${percentile(sh.latencies, 99).toFixed(1)} ms) one org vs ${rate(sc).toFixed(0)}/s ` +
        `(p99 ${percentile(sc.latencies, 99).toFixed(1)} ms) ${USERS} orgs; HTTP ${rate(hh).toFixed(0)}/s (p99 ${percentile(hh.latencies, 99).toFixed(1)} ms) ` +
        `vs ${rate(hc).toFixed(0)}/s (p99 ${percentile(hc.latencies, 99).toFixed(1)} ms); load ${load.toFixed(2)}`,
      );
      if (warm) continue;
      loads.push(load);
      results.store.hot.push(sh);
      results.store.cold.push(sc);
      results.http.hot.push(hh);
      results.http.cold.push(hc);
    }
  } finally {
    await server?.stop();
    await store.close();
    await Promise.all([storeDb.drop(), httpDb.drop()]);
  }

  const baselineName = `${USERS} orgs`;
  for (const via of ["store", "http"] as const) {
    const { hot, cold } = results[via];
    const bench = `hot org, ${USERS} users confirming at once (${via === "store" ? "store, in process" : "HTTP"}, PostgreSQL)`;
    const perSecond = { stowage: median(hot.map(rate)), baseline: median(cold.map(rate)) };
    out.rows.push({
      benchmark: bench, metric: "confirms/s, one org", unit: "/s", ...perSecond, baselineName, ratio: perSecond.stowage / perSecond.baseline,
      ...(via === "store" ? { target: "≥ 1,000/s", met: judge(perSecond.stowage >= 1000) } : {}),
    });
    for (const q of [50, 99]) {
      const stowage = median(hot.map((b) => percentile(b.latencies, q)));
      const baseline = median(cold.map((b) => percentile(b.latencies, q)));
      out.rows.push({ benchmark: bench, metric: `confirm p${q}, one org`, unit: "ms", stowage, baseline, baselineName, ratio: stowage / baseline });
    }
  }
  out.rows.push({
    benchmark: `hot org (PostgreSQL)`, metric: "org quota overshoot, worst batch", unit: "B", stowage: Math.max(0, overshoot),
    target: "0", met: overshoot > 0 ? false : SMOKE ? undefined : true,
  });
  out.notes.push(
    `hot-org: per run, ${USERS} users of ONE organization confirm one 4 KiB upload each, all at once, against ${USERS} users of ${USERS} organizations ` +
    `(side order alternated per run); confirms/s is the batch over its wall time. Store: KyselyStore.confirmUpload in process on a pg pool of 10 ` +
    `(the server's), presigned through createUpload beforehand. HTTP: stowage serve on local disk, presign and PUT not timed, then POST confirm. ` +
    `The org's limit fits exactly its ${USERS} uploads; after every batch its quota must read used = ${USERS} × 4096, reserved 0, pending 0. ` +
    `${RUNS} run(s)${SMOKE ? "" : " after a full-size warm-up"}, median of runs; load average (1 min) during the runs ` +
    `${loads.map((l) => l.toFixed(2)).join(", ")}; ${pinningNote()}`,
  );
  out.raw = { results, loads };
  return out;
}

await main(import.meta.url, run);

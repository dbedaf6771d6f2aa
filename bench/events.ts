/**
 * Webhook events delivered per second through the outbox: N events written to `events` (with
 * `appendEvents`, outside the timed part), then a `Dispatcher` with one `webhookSubscriber`
 * fans them out, claims them under a lease, POSTs each one signed to a local receiver and
 * records the attempt, until every delivery row is `delivered`. On SQLite and PostgreSQL, with
 * the default batch (16) and with 64.
 *
 * The baseline, in the same run: the same N signed POSTs sent with `deliverWebhook` directly,
 * `batch` at a time (a pool of that many senders), no database. The ratio is what the outbox
 * bookkeeping (fan-out, claims, settles, and the dispatcher's round-by-round waves) costs.
 *
 *   npm run bench -- events          (or by hand: node --import tsx bench/events.ts)
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import BetterSqlite3 from "better-sqlite3";
import { Kysely, PostgresDialect, sql, SqliteDialect } from "kysely";
import pg from "pg";
import { Dispatcher } from "../src/events/dispatcher.js";
import { eventBody } from "../src/events/upload-event.js";
import type { Database } from "../src/store/database.js";
import type { EventStore, OutboxEvent } from "../src/store/event-store.js";
import { appendEvents, type NewEvent } from "../src/store/kysely-outbox.js";
import { openStore } from "../src/store/open.js";
import type { MetadataStore } from "../src/store/store.js";
import type { UploadRecord } from "../src/uploads/record.js";
import { newUploadId } from "../src/uploads/upload-id.js";
import { toView } from "../src/uploads/views.js";
import { deliverWebhook } from "../src/webhooks/deliver.js";
import type { WebhookEndpoint } from "../src/webhooks/endpoint.js";
import { webhookSubscriber } from "../src/webhooks/subscriber.js";
import { tempPostgres } from "./lib/databases.js";
import { freePort, startProcess } from "./lib/proc.js";
import { judge, main, output, progress } from "./lib/report.js";
import { ROOT, RUNS, SERVER_CPU, SMOKE, tsxNodeArgs } from "./lib/settings.js";
import { median, round } from "./lib/stats.js";

const NAME = "events";
/** Events per measured run (`BENCH_EVENTS` overrides). */
const EVENTS = Math.max(1, Math.floor(Number(process.env.BENCH_EVENTS) || (SMOKE ? 300 : 5000)));
const WARMUP_EVENTS = Math.max(50, Math.floor(EVENTS / 10));
/** The dispatcher's default batch (src/events/dispatcher.ts), and a bigger one to compare. */
const BATCHES = [16, 64] as const;
const IDLE_MS = 5;
/** A run that has not delivered everything by then is a failure, not a slow figure. */
const RUN_TIMEOUT_MS = 180_000;
const VERSION = "bench";

/** A confirmed upload as the store would hold it; each event gets its own upload id. */
function upload(): UploadRecord {
  const id = newUploadId();
  const now = new Date();
  return {
    id, userId: "user0001", ownerType: "document", ownerId: undefined, bucket: "private", key: `documents/user0001/${id}.pdf`,
    filename: "Quarterly report (final).pdf", contentType: "application/pdf", declaredSize: 482_133, size: 482_133,
    etag: "\"9b2cf535f27731c974343645a3985328\"", status: "confirmed", rejectCode: undefined, rejectReason: undefined, createdAt: now,
    expiresAt: new Date(now.getTime() + 300_000), confirmedAt: now, deletedAt: undefined, multipart: undefined, orgId: undefined,
    parent: undefined, attachedAt: undefined, retainUntil: undefined, staging: undefined, method: "put", reserved: false, linkId: undefined,
  };
}

/** Where time went in the dispatcher's store calls, summed over a run (settles overlap each other). */
interface StoreTimes {
  fanOutMs: number;
  claimMs: number;
  claims: number;
  settleMs: number;
  settles: number;
  otherMs: number;
}

const zeroTimes = (): StoreTimes => ({ fanOutMs: 0, claimMs: 0, claims: 0, settleMs: 0, settles: 0, otherMs: 0 });

/** The store's EventStore, timing each call into `times` (the bench's view; nothing in src/ changes). */
function timed(events: EventStore, times: StoreTimes): EventStore {
  return new Proxy(events, {
    get(target, prop) {
      const value: unknown = Reflect.get(target, prop, target);
      if (typeof value !== "function") return value;
      const fn = value as (...args: unknown[]) => Promise<unknown>;
      return async (...args: unknown[]) => {
        const start = performance.now();
        try {
          return await fn.apply(target, args);
        } finally {
          const ms = performance.now() - start;
          if (prop === "fanOut") times.fanOutMs += ms;
          else if (prop === "claimDue") {
            times.claimMs += ms;
            times.claims++;
          } else if (prop === "settle") {
            times.settleMs += ms;
            times.settles++;
          } else times.otherMs += ms;
        }
      };
    },
  });
}

interface Database_ {
  label: string;
  store: MetadataStore;
  /** A second connection to the same database, for writing the outbox and counting (the store does not expose its own). */
  writer: Kysely<Database>;
  /** Clears the outbox between runs, so every run starts from the same tables. */
  reset(): Promise<void>;
}

async function writeOutbox(db: Database_, n: number): Promise<void> {
  const now = new Date();
  await db.writer.transaction().execute(async (trx) => {
    // 500 rows × 6 columns per INSERT: under SQLite's and PostgreSQL's bound-parameter limits.
    for (let i = 0; i < n; i += 500) {
      const events: NewEvent[] = Array.from({ length: Math.min(500, n - i) }, () => ({ type: "upload.confirmed", upload: upload() }));
      await appendEvents(trx, events, now);
    }
  });
}

async function countDelivered(db: Database_): Promise<number> {
  const row = await db.writer
    .selectFrom("deliveries")
    .select((eb) => eb.fn.countAll().as("n"))
    .where("state", "=", "delivered")
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** One timed run: N events through the dispatcher until all are delivered; events/s. */
async function dispatchRun(db: Database_, endpoint: WebhookEndpoint, batch: number, n: number, times: StoreTimes, failures: string[]) {
  await db.reset();
  await writeOutbox(db, n);
  let done = 0;
  const problems: string[] = [];
  let allDone: () => void = () => undefined;
  const finished = new Promise<void>((resolve) => (allDone = resolve));
  const dispatcher = new Dispatcher({
    store: timed(db.store.events, times),
    subscribers: [webhookSubscriber(endpoint, VERSION)],
    idleMs: IDLE_MS,
    batch,
    onError: (error) => problems.push(`dispatcher error: ${String(error)}`),
    onAttempt: (attempt) => {
      if (attempt.outcome === "done") {
        if (++done === n) allDone();
      } else if (problems.length < 5) {
        problems.push(`attempt ${attempt.eventId} ended ${attempt.outcome}`);
      }
    },
  });
  let timer: NodeJS.Timeout | undefined;
  const start = performance.now();
  dispatcher.start();
  // All N attempts answered, then stop(): it waits for the round in flight, so its settles too.
  await Promise.race([finished, new Promise<void>((resolve) => (timer = setTimeout(resolve, RUN_TIMEOUT_MS)))]);
  await dispatcher.stop();
  const ms = performance.now() - start;
  clearTimeout(timer);
  const delivered = await countDelivered(db);
  if (delivered !== n) failures.push(`${db.label}, batch ${batch}: ${delivered} of ${n} deliveries delivered after ${Math.round(ms)} ms`);
  failures.push(...problems.slice(0, 5).map((p) => `${db.label}, batch ${batch}: ${p}`));
  return { eventsPerSecond: n / (ms / 1000), ms };
}

/** The baseline: the same N signed POSTs with `deliverWebhook`, `concurrency` senders, no database. */
async function baselineRun(endpoint: WebhookEndpoint, concurrency: number, n: number, failures: string[]) {
  const now = new Date();
  const messages = Array.from({ length: n }, () => {
    const u = upload();
    const event: OutboxEvent = {
      id: newUploadId(), type: "upload.confirmed", uploadId: u.id, ownerType: u.ownerType, createdAt: now,
      payload: JSON.stringify(toView(u)),
    };
    return { id: event.id, body: eventBody(event) };
  });
  let next = 0;
  let bad = 0;
  const start = performance.now();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < messages.length) {
      const message = messages[next++];
      if (message === undefined) break;
      const result = await deliverWebhook({ endpoint, message, version: VERSION });
      if (result.kind !== "delivered") bad++;
    }
  }));
  const ms = performance.now() - start;
  if (bad > 0) failures.push(`baseline ×${concurrency}: ${bad} of ${n} POSTs not delivered`);
  return { eventsPerSecond: n / (ms / 1000), ms };
}

async function run() {
  const out = output(NAME);
  const loadAtStart = loadavg();
  const dir = mkdtempSync(join(tmpdir(), "events-bench-"));
  const port = await freePort();
  const receiver = await startProcess({
    name: "webhook-receiver",
    command: process.execPath,
    args: [...tsxNodeArgs(), "bench/servers/webhook-receiver.ts"],
    env: { ...process.env, PORT: String(port) } as Record<string, string>,
    cwd: ROOT,
    cpu: SERVER_CPU,
    ready: (log) => log.includes("listening"),
  });
  const endpoint: WebhookEndpoint = {
    id: "bench",
    url: `http://127.0.0.1:${port}/hooks/stowage`,
    secrets: [`whsec_${randomBytes(32).toString("base64")}`],
    events: undefined,
    ownerTypes: undefined,
    timeoutSeconds: 10,
  };
  const pgDb = await tempPostgres();
  const databases: Database_[] = [];
  try {
    const sqliteFile = join(dir, "stowage.db");
    const sqliteStore = openStore({ kind: "sqlite", file: sqliteFile });
    await sqliteStore.migrate();
    const sqliteConnection = new BetterSqlite3(sqliteFile);
    sqliteConnection.pragma("busy_timeout = 5000");
    const sqliteWriter = new Kysely<Database>({ dialect: new SqliteDialect({ database: sqliteConnection }) });
    databases.push({
      label: "SQLite",
      store: sqliteStore,
      writer: sqliteWriter,
      async reset() {
        await sqliteWriter.deleteFrom("deliveries").execute();
        await sqliteWriter.deleteFrom("events").execute();
      },
    });
    const pgStore = openStore({ kind: "postgres", url: pgDb.url });
    await pgStore.migrate();
    const pgWriter = new Kysely<Database>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: pgDb.url, max: 2 }) }) });
    databases.push({
      label: "PostgreSQL",
      store: pgStore,
      writer: pgWriter,
      async reset() {
        await pgWriter.deleteFrom("deliveries").execute();
        await pgWriter.deleteFrom("events").execute();
        // Every run then starts without the last one's dead tuples in the claim index.
        await sql`vacuum analyze deliveries, events`.execute(pgWriter);
      },
    });

    type Case = { key: string; once: (n: number) => Promise<{ eventsPerSecond: number; ms: number }> };
    const times = new Map<string, StoreTimes>();
    const cases: Case[] = [];
    for (const db of databases) {
      for (const batch of BATCHES) {
        const key = `${db.label} batch ${batch}`;
        const t = zeroTimes();
        times.set(key, t);
        cases.push({ key, once: (n) => dispatchRun(db, endpoint, batch, n, t, out.failures) });
      }
    }
    for (const batch of BATCHES) cases.push({ key: `baseline ×${batch}`, once: (n) => baselineRun(endpoint, batch, n, out.failures) });

    progress(NAME, `warm-up: ${WARMUP_EVENTS} events per case`);
    for (const c of cases) await c.once(WARMUP_EVENTS);
    for (const t of times.values()) Object.assign(t, zeroTimes());
    // Rounds interleave the cases, so a shared machine's drift falls on all of them alike.
    const results = new Map<string, { eventsPerSecond: number; ms: number }[]>();
    for (let r = 0; r < RUNS; r++) {
      for (const c of cases) {
        const result = await c.once(EVENTS);
        (results.get(c.key) ?? results.set(c.key, []).get(c.key))?.push(result);
        progress(NAME, `round ${r + 1}/${RUNS} ${c.key.padEnd(22)} ${result.eventsPerSecond.toFixed(0).padStart(6)} events/s (${result.ms.toFixed(0)} ms)`);
      }
    }
    const eps = (key: string) => median((results.get(key) ?? []).map((x) => x.eventsPerSecond));
    for (const db of databases) {
      for (const batch of BATCHES) {
        const key = `${db.label} batch ${batch}`;
        const stowage = eps(key);
        const baseline = eps(`baseline ×${batch}`);
        out.rows.push({
          benchmark: `events: ${EVENTS} webhooks via the outbox, ${db.label}, batch ${batch}${batch === 16 ? " (default)" : ""}`,
          metric: "events/s delivered",
          unit: "events/s",
          stowage,
          baseline,
          baselineName: `deliverWebhook ×${batch}, no DB`,
          ratio: stowage / baseline,
          target: "≥ 50 % of baseline",
          met: judge(stowage / baseline >= 0.5),
        });
      }
    }
    const totalMs = (key: string) => (results.get(key) ?? []).reduce((sum, x) => sum + x.ms, 0);
    for (const [key, t] of times) {
      const wall = totalMs(key);
      out.notes.push(
        `events: ${key}: of the dispatcher's wall time, fan-out ${(100 * t.fanOutMs / wall).toFixed(0)} %, claimDue ${(100 * t.claimMs / wall).toFixed(0)} % ` +
        `(${(t.claimMs / Math.max(1, t.claims)).toFixed(2)} ms per claim of up to ${key.split(" ").at(-1) ?? ""} rows), ` +
        `settle ${(t.settleMs / Math.max(1, t.settles)).toFixed(2)} ms each (${t.settles} settles, concurrent within a round)`,
      );
    }
    const faster = (label: string) => {
      const a = eps(`${label} batch 16`);
      const b = eps(`${label} batch 64`);
      return `${label}: batch ${b > a ? 64 : 16} is faster (${a.toFixed(0)} vs ${b.toFixed(0)} events/s for 16 vs 64)`;
    };
    out.notes.push(`events: ${databases.map((db) => faster(db.label)).join("; ")}`);
    out.notes.push(
      `events: ${EVENTS} events per run (upload.confirmed, ~600-byte bodies), ${WARMUP_EVENTS}-event warm-up per case, median of ${RUNS} run(s), cases interleaved; ` +
      `one webhookSubscriber (whsec_ secret, 10 s timeout), idleMs ${IDLE_MS}; outbox written with appendEvents before the clock starts; ` +
      `timed from start() until every attempt answered and stop() returned (its settles done), then all N rows checked delivered; ` +
      `receiver: node:http answering 204, pinned to CPU ${SERVER_CPU}; dispatcher and baseline in the bench process; PostgreSQL unpinned; ` +
      `load average ${loadAtStart.map((l) => l.toFixed(2)).join(" ")} at start, ${loadavg().map((l) => l.toFixed(2)).join(" ")} at end`,
    );
    out.raw = {
      events: EVENTS,
      runs: Object.fromEntries(
        [...results].map(([k, v]) => [k, v.map((x) => ({ eventsPerSecond: round(x.eventsPerSecond), ms: round(x.ms) }))]),
      ),
      storeTimes: Object.fromEntries([...times].map(([k, t]) => [k, Object.fromEntries(Object.entries(t).map(([f, v]) => [f, round(v)]))])),
    };
  } finally {
    for (const db of databases) {
      await db.writer.destroy();
      await db.store.close();
    }
    await pgDb.drop();
    await receiver.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  return out;
}

await main(import.meta.url, run);

import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, afterEach, before, beforeEach, describe, it } from "node:test";
import pg from "pg";
import type { StorageDriver } from "../../src/storage/driver.js";
import { openStore } from "../../src/store/open.js";
import type { MetadataStore } from "../../src/store/store.js";
import { sweep, type SweepReport } from "../../src/sweeper/run.js";
import type { SweepEvent, SweepJob } from "../../src/sweeper/events.js";
import type { NewUpload, UploadRecord } from "../../src/uploads/record.js";
import type { UploadStatus } from "../../src/uploads/status.js";
import { newUploadId } from "../../src/uploads/upload-id.js";
import { runStowage } from "../helpers/cli.js";
import { type OpenedStore, STORES } from "../helpers/stores.js";
import { untimed } from "../helpers/sweep.js";

/**
 * The history purge (`src/sweeper/history.ts`, `SweeperStore.purge…`) on both databases: rows
 * finished longer ago than the window go, and every row something may still need stays.
 * The sweep runs on a clock 40 days ahead (as the other sweeper tests do), and rows are finished
 * at times before it by passing that time as `now` to the store's own moves, so `finished_at`
 * is what the real code writes. Outbox event ids (UUIDv7) carry the real time they were made,
 * which is what the outbox purge's index range reads: ahead, they are 40 days old.
 */
const DAY = 24 * 3600 * 1000;
const WINDOW_DAYS = 30;
const CLOCK = new Date(Date.now() + 40 * DAY);
const at = (daysAgo: number) => new Date(CLOCK.getTime() - daysAgo * DAY);
const JOBS: SweepJob[] = ["history", "outbox", "links"];
/** The history jobs touch no object. */
const NO_DRIVER = {} as StorageDriver;

async function purge(store: MetadataStore, options: { dryRun?: boolean; purgeBatchSize?: number; historyDays?: number; now?: Date } = {}) {
  const events: SweepEvent[] = [];
  const report = await sweep({
    store: store.sweeper, driver: NO_DRIVER, policies: new Map(), targets: [], abandonedGraceSeconds: 3600, orphanGraceSeconds: 86400,
    jobs: JOBS, now: options.now ?? CLOCK, historyDays: options.historyDays ?? WINDOW_DAYS, onEvent: (event) => events.push(event),
    ...(options.dryRun === undefined ? {} : { dryRun: options.dryRun }),
    ...(options.purgeBatchSize === undefined ? {} : { purgeBatchSize: options.purgeBatchSize }),
  });
  return { report, events, uploads: new Set(events.filter((e) => e.job === "history").map((e) => e.uploadId)) };
}

function arranger(store: MetadataStore) {
  const charge = (userId: string) => ({ subject: `user:${userId}`, defaultLimitBytes: 1_000_000, maxPending: 1000 });
  const fresh = (userId: string, createdAt: Date): NewUpload => {
    const id = newUploadId();
    return {
      id, userId, orgId: undefined, ownerType: "document", ownerId: undefined, bucket: "private", key: `documents/${userId}/${id}.pdf`,
      staging: { bucket: "private", key: `staging/${id}` }, method: "put", filename: "a.pdf", contentType: "application/pdf",
      declaredSize: 10, createdAt, expiresAt: new Date(createdAt.getTime() + 300_000), multipart: undefined,
    };
  };
  /** Tells every event written so far to nobody: fanned out with no delivery, so settled. */
  const settleEvents = async () => {
    while ((await store.events.fanOut({ limit: 500, now: new Date(), targetsOf: () => [] })) > 0);
  };
  /**
   * An upload brought to `status` `daysAgo` days ago by the store's own moves, its staging
   * object recorded gone (as the staging job leaves it) and its events settled, unless told otherwise.
   */
  const finished = async (status: UploadStatus, daysAgo: number, options: { keepStaging?: boolean; settle?: boolean } = {}) => {
    const when = at(daysAgo);
    const userId = `u-${status}`;
    const upload = fresh(userId, new Date(when.getTime() - 60_000));
    const created = await store.createUpload({ upload, reserve: [charge(userId)], now: when });
    assert.equal(created.kind, "created");
    let u: UploadRecord = (created as { upload: UploadRecord }).upload;
    const confirm = async () => {
      const outcome = await store.confirmUpload({ id: u.id, from: ["pending"], size: 10, etag: "\"e\"", charges: [charge(userId)], now: when });
      return outcome.kind === "confirmed" ? outcome.upload : assert.fail(outcome.kind);
    };
    if (status === "deleted") u = (await store.deleteUpload({ id: u.id, from: ["pending"], now: when })) ?? assert.fail();
    else if (status === "rejected") u = (await store.rejectUpload({ id: u.id, from: ["pending"], code: "X", reason: "x", now: when })) ?? assert.fail();
    else if (status === "expired") {
      u = await confirm();
      u = (await store.sweeper.expireMissing({ ids: [u.id], code: "OBJECT_MISSING", reason: "gone", now: when }))[0] ?? assert.fail();
    } else if (status === "infected") {
      const scanning = await store.beginScan({ id: u.id, from: ["pending"], size: 10, etag: "\"e\"", now: when });
      assert.ok(typeof scanning === "object");
      u = (await store.markInfected({ id: u.id, from: ["scanning"], signature: "Test.Sig", now: when })) ?? assert.fail();
    } else if (status === "confirmed") u = await confirm();
    assert.equal(u.status, status);
    if (options.keepStaging !== true) await store.clearStaging({ id: u.id, key: `staging/${u.id}` });
    if (options.settle !== false) await settleEvents();
    return u;
  };
  return { finished, settleEvents };
}

for (const [name, open] of STORES) describe(`the history purge on ${name}`, () => {
  let store: MetadataStore;
  let drop: () => Promise<void>;
  let exec: (sql: string) => Promise<void>;
  let finished: ReturnType<typeof arranger>["finished"];
  let settleEvents: ReturnType<typeof arranger>["settleEvents"];
  before(async () => {
    ({ store, drop, exec } = await open());
    await store.migrate();
    ({ finished, settleEvents } = arranger(store));
  });
  after(async () => {
    await store.close();
    await drop();
  });

  it("purges rows finished (deleted, expired, rejected, infected) before the window, and keeps younger ones", async () => {
    const old = await Promise.all((["deleted", "expired", "rejected", "infected"] as const).map((status) => finished(status, WINDOW_DAYS + 10)));
    const young = await Promise.all((["deleted", "expired", "rejected", "infected"] as const).map((status) => finished(status, WINDOW_DAYS - 10)));
    const dry = await purge(store, { dryRun: true });
    for (const u of old) assert.ok(dry.uploads.has(u.id), `a dry run lists the old ${u.status} row`);
    for (const u of old) assert.equal((await store.findUpload(u.id))?.status, u.status, "and leaves it");

    const { report, uploads } = await purge(store);
    for (const u of old) assert.ok(uploads.has(u.id), `the old ${u.status} row is purged`);
    for (const u of old) assert.equal(await store.findUpload(u.id), undefined);
    for (const u of young) assert.equal((await store.findUpload(u.id))?.status, u.status, `the young ${u.status} row stays`);
    assert.equal(report.jobs.history.counts.purged, uploads.size);
    assert.equal(report.jobs.history.errors, 0);
  });

  it("measures the window from when a row finished, not from when it was made", async () => {
    // Made 40 days ago, confirmed then, deleted 5 days ago: young history.
    const u = await finished("confirmed", WINDOW_DAYS + 10);
    await store.deleteUpload({ id: u.id, from: ["confirmed"], now: at(5) });
    await settleEvents();
    assert.equal((await purge(store)).uploads.has(u.id), false);
    assert.equal((await store.findUpload(u.id))?.status, "deleted");
  });

  it("never purges a live row, whatever its finished_at says", async () => {
    const live = await finished("confirmed", WINDOW_DAYS + 10);
    await exec(`update uploads set finished_at = ${at(WINDOW_DAYS + 10).getTime()} where id = '${live.id}'`);
    assert.equal((await purge(store)).uploads.has(live.id), false);
    assert.equal((await store.findUpload(live.id))?.status, "confirmed");
  });

  it("keeps rows under retention, holding a staging object, a reservation or derivatives", async () => {
    const retained = await finished("deleted", WINDOW_DAYS + 10);
    await exec(`update uploads set retain_until = ${CLOCK.getTime() + 365 * DAY} where id = '${retained.id}'`);
    const retentionOver = await finished("deleted", WINDOW_DAYS + 10);
    await exec(`update uploads set retain_until = ${CLOCK.getTime() - DAY} where id = '${retentionOver.id}'`);
    const staged = await finished("rejected", WINDOW_DAYS + 10, { keepStaging: true });
    const reserved = await finished("deleted", WINDOW_DAYS + 10);
    await exec(`update uploads set reserved = 1 where id = '${reserved.id}'`);
    const derived = await finished("deleted", WINDOW_DAYS + 10);
    await exec(`insert into derivatives (upload_id, name, state, bucket, key, created_at) values ('${derived.id}', 'thumb', 'ready', 'public', 'thumbs/${derived.id}.webp', 0)`);

    const { uploads } = await purge(store);
    for (const [what, u] of [["retention", retained], ["staging", staged], ["reservation", reserved], ["derivatives", derived]] as const) {
      assert.equal(uploads.has(u.id), false, `the row with ${what} is not purged`);
      assert.ok(await store.findUpload(u.id), `the row with ${what} stays`);
    }
    assert.ok(uploads.has(retentionOver.id), "a retention that is over keeps nothing");

    // Once the staging object is recorded gone, that row goes on the next run.
    await store.clearStaging({ id: staged.id, key: `staging/${staged.id}` });
    assert.ok((await purge(store)).uploads.has(staged.id));
  });

  it("keeps a row while an event about it is not fanned out or not delivered, and purges it (and the events) once delivered", async () => {
    const unfanned = await finished("deleted", WINDOW_DAYS + 10, { settle: false });
    assert.equal((await purge(store)).uploads.has(unfanned.id), false, "an event not fanned out keeps its row");
    // Fanned out to a subscriber: its delivery is pending.
    while ((await store.events.fanOut({ limit: 500, now: new Date(), targetsOf: () => ["hook"] })) > 0);
    const first = await purge(store);
    assert.equal(first.uploads.has(unfanned.id), false, "a delivery in flight keeps its row");
    assert.equal(first.events.some((e) => e.job === "outbox" && e.uploadId === unfanned.id), false, "and its events");
    assert.ok(await store.findUpload(unfanned.id));

    for (;;) {
      const due = await store.events.claimDue({ limit: 100, now: new Date(), targets: ["hook"], leaseMs: () => 60_000 });
      if (due.length === 0) break;
      for (const d of due) await store.events.settle({ eventId: d.event.id, target: d.target, attempt: d.attempt, outcome: { kind: "delivered" }, now: new Date() });
    }
    // The events were written 40 days ago with the moves: once delivered they go too, with their deliveries.
    const second = await purge(store);
    assert.ok(second.uploads.has(unfanned.id));
    const purgedEvents = second.events.filter((e) => e.job === "outbox" && e.uploadId === unfanned.id);
    assert.equal(purgedEvents.length, 1, "its event (upload.deleted) is purged");
    assert.equal((await store.events.listDeliveries({ target: "hook", limit: 10_000 })).filter((d) => d.uploadId === unfanned.id).length, 0);
  });

  it("purges outbox events only when old and settled; a dead delivery is settled, a pending one is not", async () => {
    const dead = await finished("deleted", WINDOW_DAYS + 10, { settle: false });
    const pendingOne = await finished("deleted", WINDOW_DAYS + 10, { settle: false });
    await store.events.fanOut({ limit: 500, now: new Date(), targetsOf: (e) => (e.uploadId === dead.id || e.uploadId === pendingOne.id ? ["hook2"] : []) });
    await settleEvents();
    const due = await store.events.claimDue({ limit: 100, now: new Date(), targets: ["hook2"], leaseMs: () => 60_000 });
    for (const d of due.filter((d) => d.event.uploadId === dead.id)) {
      await store.events.settle({ eventId: d.event.id, target: d.target, attempt: d.attempt, outcome: { kind: "dead", error: "gave up" }, now: new Date() });
    }
    const young = await finished("deleted", WINDOW_DAYS - 10);
    const { events } = await purge(store);
    const outboxOf = (id: string) => events.filter((e) => e.job === "outbox" && e.uploadId === id).length;
    assert.equal(outboxOf(dead.id), 1);
    assert.equal(outboxOf(young.id), 0, "a settled event written inside the window stays");
    assert.equal(outboxOf(pendingOne.id), 0);
    assert.ok(await store.findUpload(pendingOne.id));
  });

  it("purges links expired or revoked before the window; keeps the rest; their uploads stay", async () => {
    const link = async (expiresDaysAgo: number, revokedDaysAgo?: number) => {
      const id = newUploadId();
      await store.links.create({
        id, tokenHash: "0".repeat(64), userId: "linker", orgId: undefined, roles: [], ownerType: "document", ownerId: undefined, maxUses: 1,
        maxBytes: undefined, allowedTypes: undefined, note: undefined, createdAt: at(400), expiresAt: at(expiresDaysAgo),
        revokedAt: revokedDaysAgo === undefined ? undefined : at(revokedDaysAgo),
      });
      return id;
    };
    const expiredLongAgo = await link(WINDOW_DAYS + 5);
    const revokedLongAgo = await link(-30, WINDOW_DAYS + 5);
    const expiredRecently = await link(5);
    const revokedRecently = await link(-30, 5);
    const live = await link(-30);
    const { events } = await purge(store);
    const purged = new Set(events.filter((e) => e.job === "links").map((e) => e.linkId));
    assert.ok(purged.has(expiredLongAgo) && purged.has(revokedLongAgo));
    for (const id of [expiredRecently, revokedRecently, live]) assert.equal(purged.has(id), false);
    assert.equal(await store.links.find(expiredLongAgo), undefined);
    assert.ok(await store.links.find(live));
  });

  it("keeps everything when the window is 0 (forever)", async () => {
    const u = await finished("deleted", 3650);
    const { report } = await purge(store, { historyDays: 0 });
    for (const job of JOBS) assert.deepEqual(untimed(report.jobs[job]), { counts: {}, bytes: 0, errors: 0 });
    assert.ok(await store.findUpload(u.id));
  });

  it("steps past rows it must keep: small batches still purge everything behind them", async () => {
    const kept = await Promise.all(Array.from({ length: 5 }, () => finished("rejected", WINDOW_DAYS + 20, { keepStaging: true })));
    const behind = await Promise.all(Array.from({ length: 12 }, () => finished("deleted", WINDOW_DAYS + 10)));
    const { uploads } = await purge(store, { purgeBatchSize: 3 });
    for (const u of behind) assert.ok(uploads.has(u.id));
    for (const u of kept) assert.equal(uploads.has(u.id), false);
  });
});

/**
 * The stored cursor (migration 0010): each run goes on from where the last stopped, and the rows
 * it passed but had to keep are checked again later. A fresh database each, so no row of another
 * test sits ahead of or behind the cursor.
 */
// A timeout: a scan that ignored its cursor would read the same held rows forever.
for (const [name, open] of STORES) describe(`the history purge's cursor on ${name}`, { timeout: 60_000 }, () => {
  let opened: OpenedStore;
  beforeEach(async () => {
    opened = await open();
    await opened.store.migrate();
  });
  afterEach(async () => {
    await opened.store.close();
    await opened.drop();
  });

  it("purges a row kept by a guard on a later run once the guard lifts, after the cursor has passed it", async () => {
    const { store, exec, rows } = opened;
    const { finished, settleEvents } = arranger(store);
    const staged = await finished("rejected", WINDOW_DAYS + 12, { keepStaging: true });
    const reserved = await finished("deleted", WINDOW_DAYS + 12);
    await exec(`update uploads set reserved = 1 where id = '${reserved.id}'`);
    const derived = await finished("deleted", WINDOW_DAYS + 12);
    await exec(`insert into derivatives (upload_id, name, state, bucket, key, created_at) values ('${derived.id}', 'thumb', 'ready', 'public', 't/${derived.id}', 0)`);
    const told = await finished("deleted", WINDOW_DAYS + 12, { settle: false });
    while ((await store.events.fanOut({ limit: 500, now: new Date(), targetsOf: () => ["hook"] })) > 0);
    const retained = await finished("deleted", WINDOW_DAYS + 12);
    await exec(`update uploads set retain_until = ${CLOCK.getTime() + 2 * DAY} where id = '${retained.id}'`);
    await settleEvents();
    // Finished after all of them: purging it puts the cursor past every held row.
    const later = await finished("deleted", WINDOW_DAYS + 11);
    const held = [staged, reserved, derived, told, retained];

    const first = await purge(store, { purgeBatchSize: 2 });
    assert.ok(first.uploads.has(later.id), "the cursor went past the held rows");
    for (const u of held) assert.equal(first.uploads.has(u.id), false);
    const holds = await rows("select id, recheck_at from purge_holds where job = 'history'");
    assert.deepEqual(new Set(holds.map((h) => h.id)), new Set(held.map((u) => u.id)), "the kept rows are held");
    const retainedHold = holds.find((h) => h.id === retained.id);
    assert.equal(Number(retainedHold?.recheck_at), CLOCK.getTime() + 2 * DAY, "the retained one is checked again when its retention ends");
    assert.equal((await purge(store)).uploads.size, 0, "a second run purges nothing while the guards hold");

    await store.clearStaging({ id: staged.id, key: `staging/${staged.id}` });
    await exec(`update uploads set reserved = 0 where id = '${reserved.id}'`);
    await exec(`delete from derivatives where upload_id = '${derived.id}'`);
    for (;;) {
      const due = await store.events.claimDue({ limit: 100, now: new Date(), targets: ["hook"], leaseMs: () => 60_000 });
      if (due.length === 0) break;
      for (const d of due) await store.events.settle({ eventId: d.event.id, target: d.target, attempt: d.attempt, outcome: { kind: "delivered" }, now: new Date() });
    }
    const second = await purge(store, { purgeBatchSize: 2 });
    for (const u of [staged, reserved, derived, told]) assert.ok(second.uploads.has(u.id), `the ${u.id} row goes once its guard lifted`);
    assert.ok(second.events.some((e) => e.job === "outbox" && e.uploadId === told.id), "and its event, held in the outbox, with it");
    assert.equal(second.uploads.has(retained.id), false, "a retention still running keeps its row");

    const afterRetention = await purge(store, { now: new Date(CLOCK.getTime() + 3 * DAY) });
    assert.ok(afterRetention.uploads.has(retained.id), "the retained row goes once its retention has ended");
    assert.equal(await store.findUpload(retained.id), undefined);
    assert.deepEqual(await opened.rows("select job, id from purge_holds"), [], "the held list is empty again");
  });

  it("reads from the cursor: a caught-up run does not walk back over what it has read", async () => {
    const { store, exec } = opened;
    const { finished } = arranger(store);
    const first = await finished("deleted", WINDOW_DAYS + 10);
    assert.ok((await purge(store)).uploads.has(first.id));
    // A row stamped behind the cursor (the application never writes one: `finished_at` is the
    // time of the move, and the cursor trails the clock by the window) is not read again.
    const behind = await finished("deleted", WINDOW_DAYS + 20);
    assert.equal((await purge(store)).uploads.has(behind.id), false);
    await exec("update sweep_cursors set after_at = null, after_id = '' where job = 'history'");
    assert.ok((await purge(store)).uploads.has(behind.id), "from the start again, it is read");
  });
});

// A timeout: a sweeper that waited for a cursor row held by the test would wait forever.
describe("two sweepers and a batch that fails (two stores on one PostgreSQL)", { timeout: 60_000 }, () => {
  const postgres = STORES.find(([name]) => name === "PostgreSQL")?.[1] ?? assert.fail();
  let opened: OpenedStore;
  before(async () => {
    opened = await postgres();
    await opened.store.migrate();
  });
  after(async () => {
    await opened.store.close();
    await opened.drop();
  });

  it("lose no row: a batch that rolls back leaves its rows to the next, and a row locked elsewhere is waited for", async () => {
    const { store, exec } = opened;
    const second = opened.another();
    const { finished } = arranger(store);
    const rows: UploadRecord[] = [];
    for (let i = 0; i < 60; i += 20) rows.push(...(await Promise.all(Array.from({ length: 20 }, (_, j) => finished("deleted", WINDOW_DAYS + 1 + ((i + j) % 20))))));
    const failing = rows[7] ?? assert.fail();
    const locked = rows[31] ?? assert.fail();
    // The first DELETE of the failing row raises (a sequence is not rolled back with it): its whole batch rolls back.
    await exec(`create sequence fail_once;
      create function fail_once() returns trigger language plpgsql as $$
      begin if old.id = '${failing.id}' and nextval('fail_once') = 1 then raise exception 'injected failure'; end if; return old; end $$;
      create trigger fail_once before delete on uploads for each row execute function fail_once()`);
    const holder = new pg.Client({ connectionString: opened.url ?? assert.fail() });
    await holder.connect();
    try {
      await holder.query("begin");
      await holder.query(`select 1 from uploads where id = '${locked.id}' for update`);
      const race = Promise.all([purge(store, { purgeBatchSize: 5 }), purge(second, { purgeBatchSize: 5 })]);
      await new Promise((resolve) => setTimeout(resolve, 500));
      await holder.query("commit");
      const [a, b] = await race;
      const failures = [a, b].map((run) => run.report.jobs.history.failure).filter((f) => f !== undefined);
      assert.equal(failures.length, 1, "one sweeper's batch failed");
      const next = await purge(store, { purgeBatchSize: 5 });
      const ids = [...a.events, ...b.events, ...next.events].filter((e) => e.job === "history").map((e) => e.uploadId);
      assert.equal(ids.length, rows.length, "no row counted twice");
      assert.deepEqual(new Set(ids), new Set(rows.map((r) => r.id)), "and none lost: the failed batch's and the locked row included");
    } finally {
      await holder.end();
      await second.close();
    }
  });

  it("leaves a job whose cursor another sweeper holds, and reports no failure", async () => {
    const { store } = opened;
    const u = await arranger(store).finished("deleted", WINDOW_DAYS + 1);
    const holder = new pg.Client({ connectionString: opened.url ?? assert.fail() });
    await holder.connect();
    try {
      await holder.query("begin");
      await holder.query("select 1 from sweep_cursors where job in ('history', 'outbox') for update");
      const busy = await purge(store);
      assert.equal(busy.uploads.size, 0, "the other sweeper has the job");
      assert.equal(busy.report.jobs.history.failure, undefined);
      await holder.query("commit");
    } finally {
      await holder.end();
    }
    assert.ok((await purge(store)).uploads.has(u.id), "and the next run does it");
  });
});

describe("two sweepers purging at once (two stores on one PostgreSQL)", () => {
  const postgres = STORES.find(([name]) => name === "PostgreSQL")?.[1] ?? assert.fail();
  let opened: Awaited<ReturnType<typeof postgres>>;
  let second: MetadataStore;
  before(async () => {
    opened = await postgres();
    await opened.store.migrate();
    second = opened.another();
  });
  after(async () => {
    await Promise.all([opened.store.close(), second.close()]);
    await opened.drop();
  });

  it("purge each of 300 rows and its events exactly once, and report exact totals", async () => {
    const { finished } = arranger(opened.store);
    const statuses = ["deleted", "expired", "rejected", "infected"] as const;
    const rows: UploadRecord[] = [];
    for (let i = 0; i < 300; i += 20) {
      rows.push(...(await Promise.all(Array.from({ length: 20 }, (_, j) => finished(statuses[(i + j) % 4] ?? "deleted", WINDOW_DAYS + 1 + ((i + j) % 30))))));
    }
    const eventsBefore = (await opened.store.events.listDeliveries({ limit: 1 })).length; // none: fanned out to nobody
    assert.equal(eventsBefore, 0);

    // Both pools connected before the race, so neither gets a head start of a connection.
    await Promise.all([opened.store.ping(), second.ping()]);
    const [a, b] = await Promise.all([purge(opened.store, { purgeBatchSize: 10 }), purge(second, { purgeBatchSize: 10 })]);
    const count = (run: { report: SweepReport }, job: SweepJob) => run.report.jobs[job].counts.purged ?? 0;
    process.stderr.write(`# purged by A: ${count(a, "history")} rows ${count(a, "outbox")} events; by B: ${count(b, "history")} rows ${count(b, "outbox")} events\n`);
    assert.equal(count(a, "history") + count(b, "history"), rows.length);
    const ids = [...a.events, ...b.events].filter((e) => e.job === "history").map((e) => e.uploadId);
    assert.equal(new Set(ids).size, rows.length, "no row counted twice");
    assert.deepEqual(new Set(ids), new Set(rows.map((r) => r.id)));
    const eventIds = [...a.events, ...b.events].filter((e) => e.job === "outbox").map((e) => e.eventId);
    assert.equal(new Set(eventIds).size, eventIds.length, "no event counted twice");
    assert.equal(count(a, "outbox") + count(b, "outbox"), eventIds.length);
    // One event per move: deleted and rejected from pending 1, expired (confirmed first) and infected (scanned first) 2.
    const written = rows.reduce((sum, row) => sum + (row.status === "expired" || row.status === "infected" ? 2 : 1), 0);
    assert.equal(eventIds.length, written, "every event purged");
    for (const run of [a, b]) for (const job of JOBS) assert.equal(run.report.jobs[job].failure, undefined);
    assert.equal((await purge(opened.store)).report.jobs.history.counts.purged, undefined, "nothing left");
  });
});

describe("stowage sweep reports the purge", () => {
  let dataDir: string;
  before(() => {
    dataDir = mkdtempSync(join(tmpdir(), "stowage-history-cli-"));
  });
  after(() => rmSync(dataDir, { recursive: true, force: true }));

  it("lists it in a dry run and counts it in the report", async () => {
    const store = openStore({ kind: "sqlite", file: join(dataDir, "stowage.db") });
    await store.migrate();
    // The command sweeps on the real clock: this row finished 31 days before now.
    const u = await arranger(store).finished("deleted", 40 + WINDOW_DAYS + 1);
    await store.close();
    const env = { STOWAGE_DATA_DIR: dataDir, LOG_LEVEL: "warn" };

    const dry = await runStowage(["sweep", "--dry-run"], env);
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, new RegExp(`would-purge +history +private/${u.key}`));

    const real = await runStowage(["sweep", "--json"], env);
    assert.equal(real.code, 0, real.stderr);
    const report = JSON.parse(real.stdout) as SweepReport;
    assert.deepEqual(untimed(report.jobs.history), { counts: { purged: 1 }, bytes: 0, errors: 0 });
    assert.equal(await openStore({ kind: "sqlite", file: join(dataDir, "stowage.db") }).findUpload(u.id).then((row) => row?.id), undefined);

    const again = await runStowage(["sweep"], { ...env, STOWAGE_HISTORY_DAYS: "0" });
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /history +nothing to do, 0 bytes/);
  });
});

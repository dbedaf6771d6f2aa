import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import pg from "pg";
import type { OutboxEvent } from "../../src/store/event-store.js";
import type { QuotaCharge, QuotaUsage } from "../../src/store/quota.js";
import type { MetadataStore } from "../../src/store/store.js";
import type { NewUpload } from "../../src/uploads/record.js";
import { newUploadId } from "../../src/uploads/upload-id.js";
import { migratedStore, STORES } from "../helpers/stores.js";

/**
 * Confirms of one event-loop turn share one transaction (KyselyStore's confirm batch), on both
 * databases: what each confirm answers, what is charged, and that one organization's quota stays
 * exact while its members' presigns and confirms race over several stores.
 */

for (const [name, open] of STORES) describe(`confirm batches on ${name}`, () => {
  let store: MetadataStore;
  let another: () => MetadataStore;
  let url: string | undefined;
  migratedStore(open, (opened) => ({ store, another, url } = opened));

  const upload = (userId: string, orgId: string, size: number, expiresInMs = 60_000): NewUpload => {
    const id = newUploadId();
    return {
      id, userId, orgId, ownerType: "document", ownerId: undefined, bucket: "private", key: `documents/${userId}/${id}.pdf`,
      staging: { bucket: "private", key: `staging/${id}` }, method: "put", filename: "a.pdf", contentType: "application/pdf",
      declaredSize: size, createdAt: new Date(), expiresAt: new Date(Date.now() + expiresInMs), multipart: undefined,
    };
  };
  const charges = (userId: string, orgId: string, orgLimit: number): QuotaCharge[] => [
    { subject: `user:${userId}`, defaultLimitBytes: 1_000_000, maxPending: 1000 },
    { subject: `org:${orgId}`, defaultLimitBytes: orgLimit },
  ];
  const counters = (u: QuotaUsage) => ({ used: u.usedBytes, reserved: u.reservedBytes, pending: u.pendingUploads });
  const orgUsage = (s: MetadataStore, orgId: string, limit: number) => s.usage({ subject: `org:${orgId}`, defaultLimitBytes: limit });

  it("answers each confirm of a batch for itself and charges each subject exactly once per upload", async () => {
    const limit = 1000;
    const made = async (userId: string, size: number, expiresInMs?: number) => {
      const u = upload(userId, "mix", size, expiresInMs);
      const outcome = await store.createUpload({ upload: u, reserve: charges(userId, "mix", limit), now: new Date() });
      assert.equal(outcome.kind, "created");
      return u;
    };
    const plain = await Promise.all(["amy", "bob", "cy"].map((userId) => made(userId, 100)));
    const twice = await made("dee", 100);
    const rejected = await made("eli", 100);
    await store.rejectUpload({ id: rejected.id, from: ["pending"], code: "SIZE_MISMATCH", reason: "x", now: new Date() });
    // Its URL expired and its reservation went back; another's reservation takes the room, so
    // the late confirm, charged like a new upload, no longer fits.
    const late = await made("fox", 300, -1000);
    assert.equal(await store.releaseExpiredReservations({ orgId: "mix", now: new Date() }), 1);
    await made("hog", 300);
    const scanned = await made("gil", 100);
    // Being scanned, it keeps its reservation: a confirm from `pending` must not take it.
    const scanning = await made("hal", 100);
    for (const u of [scanned, scanning]) await store.beginScan({ id: u.id, from: ["pending"], size: 100, etag: "\"s\"", now: new Date() });

    const confirm = (u: NewUpload, from: "pending" | "scanning" = "pending") =>
      store.confirmUpload({
        id: u.id, from: [from], size: u.declaredSize, etag: "\"e\"", charges: charges(u.userId, "mix", limit), scanned: from === "scanning", now: new Date(),
      });
    // All in one turn: one batch.
    const outcomes = await Promise.all([
      ...plain.map((u) => confirm(u)), confirm(twice), confirm(twice), confirm(rejected), confirm(late), confirm(scanned, "scanning"), confirm(scanning),
    ]);
    assert.deepEqual(outcomes.map((o) => o.kind), ["confirmed", "confirmed", "confirmed", "confirmed", "not-in-state", "not-in-state", "quota-exceeded", "confirmed", "not-in-state"]);
    for (const outcome of outcomes.filter((o) => o.kind === "confirmed")) {
      assert.equal(outcome.kind === "confirmed" && outcome.upload.reserved, false);
      assert.equal(outcome.kind === "confirmed" && outcome.upload.status, "confirmed");
    }
    // Confirmed: 3 plain + twice + scanned = 5 × 100; the hog's 300 and the scanning 100 still reserved.
    assert.deepEqual(counters(await orgUsage(store, "mix", limit)), { used: 500, reserved: 400, pending: 2 });
    assert.deepEqual(counters(await store.usage(charges("dee", "mix", limit)[0] as QuotaCharge)), { used: 100, reserved: 0, pending: 0 });
    assert.deepEqual(counters(await store.usage(charges("eli", "mix", limit)[0] as QuotaCharge)), { used: 0, reserved: 0, pending: 0 });
    const events: OutboxEvent[] = [];
    await store.events.fanOut({ limit: 100, now: new Date(), targetsOf: (event) => (events.push(event), []) });
    const confirmedEvents = events.filter((e) => e.type === "upload.confirmed").map((e) => e.uploadId).sort();
    assert.deepEqual(confirmedEvents, [...plain, twice, scanned].map((u) => u.id).sort(), "one upload.confirmed per confirmed upload");
    assert.deepEqual(events.filter((e) => e.type === "upload.scanned").map((e) => e.uploadId), [scanned.id]);
  });

  it("keeps one organization exact while its members' presigns and confirms race over three stores", async () => {
    // Three stores (pools, on SQLite connections) on one database: their batches really race.
    const stores = [store, another(), another()];
    const size = 10;
    const fits = 40;
    const limit = fits * size;
    const org = "hot";
    try {
      await Promise.all(stores.map((s) => s.ping()));
      let overshoot = 0;
      let racing = true;
      const watch = (async () => {
        while (racing) {
          const u = await orgUsage(store, org, limit);
          overshoot = Math.max(overshoot, u.usedBytes + u.reservedBytes - limit);
          await new Promise((resolve) => setImmediate(resolve));
        }
      })();
      // 120 uploads of 12 members, each confirmed as soon as it is admitted; only 40 fit. A
      // member presigns while their other uploads confirm, so batches share several rows (the
      // organization's and members'): locked in different orders, they would deadlock.
      const results = await Promise.all(
        Array.from({ length: 120 }, async (_, i) => {
          if (i % 3 === 0) await new Promise((resolve) => setImmediate(resolve));
          const s = stores[i % stores.length] as MetadataStore;
          const member = `m${i % 12}`;
          const u = upload(member, org, size);
          const created = await s.createUpload({ upload: u, reserve: charges(member, org, limit), now: new Date() });
          if (created.kind !== "created") return created.kind;
          // Confirmed through another store than the one that presigned it: another instance.
          const t = stores[(i + 1) % stores.length] as MetadataStore;
          const confirmed = await t.confirmUpload({ id: u.id, from: ["pending"], size, etag: "\"e\"", charges: charges(member, org, limit), now: new Date() });
          return confirmed.kind;
        }),
      );
      racing = false;
      await watch;
      assert.equal(results.filter((r) => r === "confirmed").length, fits, JSON.stringify(results));
      assert.equal(results.filter((r) => r === "refused").length, 120 - fits);
      assert.equal(overshoot <= 0, true, `used + reserved went ${overshoot} bytes past the limit`);
      assert.deepEqual(counters(await orgUsage(store, org, limit)), { used: limit, reserved: 0, pending: 0 });
      const members = await Promise.all(Array.from({ length: 12 }, (_, i) => store.usage(charges(`m${i}`, org, limit)[0] as QuotaCharge)));
      assert.equal(members.reduce((sum, u) => sum + u.usedBytes, 0), limit, "the members' usage sums to the organization's");
      assert.equal(members.every((u) => u.reservedBytes === 0 && u.pendingUploads === 0), true);
    } finally {
      await Promise.all(stores.slice(1).map((s) => s.close()));
    }
  });

  // PostgreSQL only: SQLite has one writer at a time, no row locks to order.
  if (name === "PostgreSQL") it("locks a batch's quota rows in subject order, as presign does, so the two cannot deadlock", async () => {
    if (url === undefined) throw new Error("no PostgreSQL URL");
    const limit = 1000;
    // user:zz's row is written first, so a plan that visits rows in table order would not lock them in subject order.
    const first = { ...upload("zz", "ord", 10), orgId: undefined };
    assert.equal((await store.createUpload({ upload: first, reserve: charges("zz", "ord", limit).slice(0, 1), now: new Date() })).kind, "created");
    const made = await Promise.all(["aa", "zz"].map(async (userId) => {
      const u = upload(userId, "ord", 10);
      assert.equal((await store.createUpload({ upload: u, reserve: charges(userId, "ord", limit), now: new Date() })).kind, "created");
      return u;
    }));
    const holder = new pg.Client({ connectionString: url });
    const prober = new pg.Client({ connectionString: url });
    await Promise.all([holder.connect(), prober.connect()]);
    try {
      await holder.query("begin");
      await holder.query("select 1 from quotas where subject = 'user:zz' for update");
      const confirmed = Promise.all(made.map((u) =>
        store.confirmUpload({ id: u.id, from: ["pending"], size: 10, etag: "\"e\"", charges: charges(u.userId, "ord", limit), now: new Date() }),
      ));
      // The batch waits on user:zz, the last of its rows in order, holding the ones before it.
      await sleep(300);
      await assert.rejects(
        prober.query("begin; select 1 from quotas where subject = 'org:ord' for update nowait"),
        { code: "55P03" },
        "the organization's row, first in order, is already the batch's",
      );
      await prober.query("rollback");
      await holder.query("commit");
      assert.deepEqual((await confirmed).map((o) => o.kind), ["confirmed", "confirmed"]);
    } finally {
      await Promise.all([holder.end(), prober.end()]);
    }
  });
});

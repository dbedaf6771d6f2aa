import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { NewUpload } from "../../src/uploads/record.js";
import type { QuotaCharge } from "../../src/store/quota.js";
import type { MetadataStore } from "../../src/store/store.js";
import { newUploadId } from "../../src/uploads/upload-id.js";
import { migratedStore, STORES } from "../helpers/stores.js";

/** Quota reservations in the store itself, on both databases, for states the API cannot arrange. */

for (const [name, open] of STORES) describe(`quota reservations on ${name}`, () => {
  let store: MetadataStore;
  let another: () => MetadataStore;
  migratedStore(open, (opened) => ({ store, another } = opened));

  const upload = (userId: string, size: number, options: { orgId?: string; expiresInMs?: number } = {}): NewUpload => {
    const id = newUploadId();
    return {
      id, userId, orgId: options.orgId, ownerType: "document", ownerId: undefined, bucket: "private", key: `documents/${userId}/${id}.pdf`,
      staging: { bucket: "private", key: `staging/${id}` }, method: "put", filename: "a.pdf", contentType: "application/pdf",
      declaredSize: size, createdAt: new Date(), expiresAt: new Date(Date.now() + (options.expiresInMs ?? 60_000)), multipart: undefined,
    };
  };
  const user = (userId: string, limit = 100, maxPending = 10): QuotaCharge => ({ subject: `user:${userId}`, defaultLimitBytes: limit, maxPending });
  const create = (u: NewUpload, charges: QuotaCharge[]) => store.createUpload({ upload: u, reserve: charges, now: new Date() });
  const usage = (charge: QuotaCharge) => store.usage(charge);

  it("reserves at presign: used + reserved + size <= limit, and nothing is inserted when it does not fit", async () => {
    const a = await create(upload("ann", 60), [user("ann")]);
    assert.equal(a.kind, "created");
    assert.equal(a.kind === "created" && a.upload.reserved, true);
    assert.deepEqual(await usage(user("ann")), { subject: "user:ann", usedBytes: 0, reservedBytes: 60, pendingUploads: 1, limitBytes: 100 });
    const refused = upload("ann", 50);
    const b = await create(refused, [user("ann")]);
    assert.deepEqual(b, { kind: "refused", refusal: { reason: "quota", usage: { subject: "user:ann", usedBytes: 0, reservedBytes: 60, pendingUploads: 1, limitBytes: 100 } } });
    assert.equal(await store.findUpload(refused.id), undefined, "a refused presign records nothing");
    assert.equal((await create(upload("ann", 40), [user("ann")])).kind, "created", "exactly what is left still fits");
  });

  it("turns the reservation into usage at confirm, exactly once", async () => {
    const u = upload("ben", 70);
    await create(u, [user("ben")]);
    const confirm = () => store.confirmUpload({ id: u.id, from: ["pending"], size: 70, etag: "\"e\"", charges: [user("ben")], now: new Date() });
    const [first, second] = await Promise.all([confirm(), confirm()]);
    assert.deepEqual([first.kind, second.kind].sort(), ["confirmed", "not-in-state"]);
    assert.deepEqual(await usage(user("ben")), { subject: "user:ben", usedBytes: 70, reservedBytes: 0, pendingUploads: 0, limitBytes: 100 });
    assert.equal((await store.findUpload(u.id))?.reserved, false);
  });

  it("gives the reservation back on reject and on delete, once, and the refund of a confirmed delete too", async () => {
    const [r, d, c] = [upload("cat", 30), upload("cat", 30), upload("cat", 30)];
    for (const u of [r, d, c]) await create(u, [user("cat")]);
    assert.equal((await usage(user("cat"))).reservedBytes, 90);
    await store.rejectUpload({ id: r.id, from: ["pending"], code: "SIZE_MISMATCH", reason: "x", now: new Date() });
    await store.rejectUpload({ id: r.id, from: ["pending", "rejected"], code: "SIZE_MISMATCH", reason: "again", now: new Date() });
    assert.equal((await usage(user("cat"))).reservedBytes, 60, "released once");
    await store.deleteUpload({ id: d.id, from: ["pending"], now: new Date() });
    await store.confirmUpload({ id: c.id, from: ["pending"], size: 30, etag: "\"e\"", charges: [user("cat")], now: new Date() });
    assert.deepEqual(await usage(user("cat")), { subject: "user:cat", usedBytes: 30, reservedBytes: 0, pendingUploads: 0, limitBytes: 100 });
    await store.deleteUpload({ id: c.id, from: ["confirmed"], now: new Date() });
    assert.deepEqual(await usage(user("cat")), { subject: "user:cat", usedBytes: 0, reservedBytes: 0, pendingUploads: 0, limitBytes: 100 });
  });

  it("caps the pending uploads of a user, and frees a slot when one settles", async () => {
    const cap = user("dan", 10_000, 2);
    const [a] = [upload("dan", 1)];
    assert.equal((await create(a as NewUpload, [cap])).kind, "created");
    assert.equal((await create(upload("dan", 1), [cap])).kind, "created");
    const third = await create(upload("dan", 1), [cap]);
    assert.equal(third.kind === "refused" && third.refusal.reason, "pending");
    await store.deleteUpload({ id: (a as NewUpload).id, from: ["pending"], now: new Date() });
    assert.equal((await create(upload("dan", 1), [cap])).kind, "created");
  });

  it("reserves on the organization too, both or neither", async () => {
    const org: QuotaCharge = { subject: "org:acme", defaultLimitBytes: 50 };
    assert.equal((await create(upload("eve", 40, { orgId: "acme" }), [user("eve"), org])).kind, "created");
    const refused = await create(upload("fay", 20, { orgId: "acme" }), [user("fay"), org]);
    assert.equal(refused.kind === "refused" && refused.refusal.usage.subject, "org:acme");
    assert.equal((await usage(user("fay"))).reservedBytes, 0, "the user's reservation rolled back with the org's refusal");
  });

  it("releases the reservations of uploads whose URL expired, once; a late confirm is then charged if it fits", async () => {
    const late = upload("gus", 80, { expiresInMs: -1000 });
    await create(late, [user("gus")]);
    assert.equal(await store.releaseExpiredReservations({ userId: "gus", now: new Date() }), 1);
    assert.equal(await store.releaseExpiredReservations({ userId: "gus", now: new Date() }), 0);
    assert.deepEqual(await usage(user("gus")), { subject: "user:gus", usedBytes: 0, reservedBytes: 0, pendingUploads: 0, limitBytes: 100 });
    // Someone else's reservation now takes the room: the late confirm may not push past it.
    await create(upload("gus", 50), [user("gus")]);
    const outcome = await store.confirmUpload({ id: late.id, from: ["pending"], size: 80, etag: "\"e\"", charges: [user("gus")], now: new Date() });
    assert.equal(outcome.kind, "quota-exceeded");
    assert.deepEqual(await usage(user("gus")), { subject: "user:gus", usedBytes: 0, reservedBytes: 50, pendingUploads: 1, limitBytes: 100 });
  });

  it("is exact under concurrent presigns: of 60 racing over three stores for room for 10, exactly 10 are recorded", async () => {
    // Three stores (pools, on SQLite connections) on one database: their batches really race.
    const stores = [store, another(), another()];
    try {
      const charge = [user("hal", 100, 1000), { subject: "org:hal-org", defaultLimitBytes: 1000 }];
      // The quota rows exist already: a first insert of a row would serialize the racers by itself.
      const first = upload("hal", 10, { orgId: "hal-org" });
      await store.createUpload({ upload: first, reserve: charge, now: new Date() });
      await store.deleteUpload({ id: first.id, from: ["pending"], now: new Date() });
      await Promise.all(stores.map((s) => s.ping()));
      const results = await Promise.all(
        Array.from({ length: 60 }, async (_, i) => {
          // Spread over event-loop turns too, so batches of several sizes meet.
          if (i % 4 === 0) await new Promise((resolve) => setImmediate(resolve));
          const target = stores[i % stores.length] as MetadataStore;
          return target.createUpload({ upload: upload("hal", 10, { orgId: "hal-org" }), reserve: charge, now: new Date() });
        }),
      );
      assert.equal(results.filter((r) => r.kind === "created").length, 10);
      assert.deepEqual(await usage(user("hal", 100, 1000)), { subject: "user:hal", usedBytes: 0, reservedBytes: 100, pendingUploads: 10, limitBytes: 100 });
      assert.equal((await usage({ subject: "org:hal-org", defaultLimitBytes: 1000 })).reservedBytes, 100, "the organization holds exactly the admitted ones");
    } finally {
      await Promise.all(stores.slice(1).map((s) => s.close()));
    }
  });
});

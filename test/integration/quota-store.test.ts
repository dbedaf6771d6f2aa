import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { QuotaCharge } from "../../src/store/quota.js";
import type { MetadataStore } from "../../src/store/store.js";
import type { NewUpload } from "../../src/uploads/record.js";
import { newUploadId } from "../../src/uploads/upload-id.js";
import { migratedStore, STORES } from "../helpers/stores.js";

/** The store's quota charge on both databases, for states the HTTP API cannot arrange. */

for (const [name, open] of STORES) describe(`quota charge at confirm on ${name}`, () => {
  let store: MetadataStore;
  let another: () => MetadataStore;
  let exec: (sql: string) => Promise<void>;
  migratedStore(open, (opened) => ({ store, another, exec } = opened));

  const upload = (userId: string, size: number): NewUpload => {
    const id = newUploadId();
    return {
      id, userId, orgId: undefined, ownerType: "document", ownerId: undefined, bucket: "private", key: `documents/${userId}/${id}.pdf`,
      filename: "a.pdf", contentType: "application/pdf", declaredSize: size, createdAt: new Date(), expiresAt: new Date(Date.now() + 60_000), multipart: undefined, staging: undefined, method: "put",
    };
  };
  /** A pending upload holding no reservation (as after its URL expired): confirm charges it anew. */
  const pending = async (userId: string, size: number) => (await store.insertUpload(upload(userId, size))).id;
  const confirm = (id: string, userId: string, size: number, defaultLimitBytes: number, on = store) =>
    on.confirmUpload({ id, from: ["pending"], size, etag: "\"e\"", charges: [{ subject: `user:${userId}`, defaultLimitBytes }], now: new Date() });
  /** A limit of the subject's own; no store method sets one (an operator does, in SQL). */
  const ownLimit = (userId: string, limitBytes: number) =>
    exec(`insert into quotas (subject, used_bytes, limit_bytes, updated_at) values ('user:${userId}', 0, ${limitBytes}, 0)`);

  it("refuses a first charge larger than the default limit, charging and confirming nothing", async () => {
    const id = await pending("newcomer", 500);
    const outcome = await confirm(id, "newcomer", 500, 100);
    assert.deepEqual(outcome, { kind: "quota-exceeded", usage: { subject: "user:newcomer", usedBytes: 0, reservedBytes: 0, pendingUploads: 0, limitBytes: 100 } });
    assert.equal((await store.findUpload(id))?.status, "pending");
    assert.deepEqual(await store.usage({ subject: "user:newcomer", defaultLimitBytes: 100 }), { subject: "user:newcomer", usedBytes: 0, reservedBytes: 0, pendingUploads: 0, limitBytes: 100 });
  });

  it("creates the row on a first charge that fits, adds to it, and refuses what no longer fits", async () => {
    const [a, b, c] = [await pending("steady", 60), await pending("steady", 30), await pending("steady", 20)];
    assert.equal((await confirm(a, "steady", 60, 100)).kind, "confirmed");
    assert.equal((await confirm(b, "steady", 30, 100)).kind, "confirmed");
    assert.deepEqual(await confirm(c, "steady", 20, 100), { kind: "quota-exceeded", usage: { subject: "user:steady", usedBytes: 90, reservedBytes: 0, pendingUploads: 0, limitBytes: 100 } });
    const usages = await Promise.all([store.usage({ subject: "user:steady", defaultLimitBytes: 100 }), store.usage({ subject: "user:nobody", defaultLimitBytes: 7 })]);
    assert.deepEqual(usages.map((u) => u.usedBytes), [90, 0]);
    assert.equal(usages[1]?.limitBytes, 7);
  });

  // A charge larger than the default limit cannot take the upsert (a row it created would have the
  // default limit), so it is a plain UPDATE of the subject's existing row, guarded the same way.
  it("charges past the default limit only up to a subject's own, counting the subject's reservations", async () => {
    await ownLimit("roomy", 500);
    const roomy: QuotaCharge = { subject: "user:roomy", defaultLimitBytes: 50 };
    assert.equal((await store.createUpload({ upload: upload("roomy", 100), reserve: [roomy], now: new Date() })).kind, "created");
    const [a, b, c] = [await pending("roomy", 300), await pending("roomy", 200), await pending("roomy", 100)];
    assert.equal((await confirm(a, "roomy", 300, 50)).kind, "confirmed", "300 of 500, beside 100 reserved");
    assert.deepEqual(await confirm(b, "roomy", 200, 50), {
      kind: "quota-exceeded",
      usage: { subject: "user:roomy", usedBytes: 300, reservedBytes: 100, pendingUploads: 1, limitBytes: 500 },
    }, "300 used + 100 reserved + 200 is past 500");
    assert.equal((await store.findUpload(b))?.status, "pending", "a refused confirm confirms nothing");
    assert.equal((await confirm(c, "roomy", 100, 50)).kind, "confirmed", "exactly what is left still fits");
    assert.deepEqual(await store.usage(roomy), { subject: "user:roomy", usedBytes: 400, reservedBytes: 100, pendingUploads: 1, limitBytes: 500 });
  });

  // On SQLite a confirm's first statement writes, so it holds the database's one writer lock
  // until it commits: confirms cannot interleave. On PostgreSQL they do, and only the UPDATE's own
  // guard, re-checked on the row it waited for, keeps the racers within the limit.
  if (name === "PostgreSQL") {
    it("is exact under concurrent confirms past the default limit: of 12 racing over three stores for 1000 bytes, 3 are charged", async () => {
      await ownLimit("crowd", 1000);
      const stores = [store, another(), another()];
      try {
        const ids = await Promise.all(Array.from({ length: 12 }, () => pending("crowd", 300)));
        await Promise.all(stores.map((s) => s.ping()));
        const outcomes = await Promise.all(ids.map((id, i) => confirm(id, "crowd", 300, 100, stores[i % stores.length])));
        assert.deepEqual(outcomes.map((o) => o.kind).sort(), [...Array(3).fill("confirmed"), ...Array(9).fill("quota-exceeded")]);
        assert.deepEqual(await store.usage({ subject: "user:crowd", defaultLimitBytes: 100 }), {
          subject: "user:crowd", usedBytes: 900, reservedBytes: 0, pendingUploads: 0, limitBytes: 1000,
        });
        const statuses = await Promise.all(ids.map(async (id) => (await store.findUpload(id))?.status));
        assert.equal(statuses.filter((s) => s === "confirmed").length, 3, "only the charged ones are confirmed");
      } finally {
        await Promise.all(stores.slice(1).map((s) => s.close()));
      }
    });
  }
});

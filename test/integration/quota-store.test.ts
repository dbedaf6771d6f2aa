import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { MetadataStore } from "../../src/store/store.js";
import { newUploadId } from "../../src/uploads/upload-id.js";
import { STORES } from "../helpers/stores.js";

/** The store's quota charge on both databases, for states the HTTP API cannot arrange. */

for (const [name, open] of STORES) describe(`quota charge at confirm on ${name}`, () => {
  let store: MetadataStore;
  let drop: () => Promise<void>;
  before(async () => {
    ({ store, drop } = await open());
    await store.migrate();
  });
  after(async () => {
    await store.close();
    await drop();
  });

  const pending = async (userId: string, size: number) => {
    const id = newUploadId();
    await store.insertUpload({
      id, userId, orgId: undefined, ownerType: "document", ownerId: undefined, bucket: "private", key: `documents/${userId}/${id}.pdf`,
      filename: "a.pdf", contentType: "application/pdf", declaredSize: size, createdAt: new Date(), expiresAt: new Date(Date.now() + 60_000), multipart: undefined, staging: undefined, method: "put",
    });
    return id;
  };
  const confirm = (id: string, userId: string, size: number, defaultLimitBytes: number) =>
    store.confirmUpload({ id, from: ["pending"], size, etag: "\"e\"", charges: [{ subject: `user:${userId}`, defaultLimitBytes }], now: new Date() });

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
});

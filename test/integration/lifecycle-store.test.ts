import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { QuotaCharge } from "../../src/store/quota.js";
import type { MetadataStore } from "../../src/store/store.js";
import { sourcesOf, TRANSITIONS } from "../../src/uploads/lifecycle.js";
import type { NewUpload, UploadRecord } from "../../src/uploads/record.js";
import type { UploadStatus } from "../../src/uploads/status.js";
import { newUploadId } from "../../src/uploads/upload-id.js";
import { migratedStore, STORES } from "../helpers/stores.js";

/**
 * Every allowed move of the state machine through the store, on both databases: the row ends in
 * the target state, and exactly the move's events are in the outbox (read back through the
 * dispatcher's own fan-out). A move the table does not allow, and a change that rolls back,
 * write no event.
 */

/** The events each move writes, as the domain promises them. */
const EVENTS: Record<string, string[]> = {
  "pending→scanning": ["scan.requested"],
  "pending→confirmed": ["upload.confirmed"],
  "pending→rejected": ["upload.rejected"],
  "pending→deleted": ["upload.deleted"],
  "pending→expired": ["upload.expired"],
  "scanning→confirmed": ["upload.scanned", "upload.confirmed"],
  "scanning→infected": ["upload.infected"],
  "scanning→rejected": ["upload.rejected"],
  "scanning→deleted": ["upload.deleted"],
  "confirmed→deleted": ["upload.deleted"],
  "confirmed→expired": ["upload.expired"],
  "rejected→deleted": ["upload.deleted"],
  "infected→deleted": ["upload.deleted"],
};

for (const [name, open] of STORES) describe(`the upload lifecycle in the store on ${name}`, () => {
  let store: MetadataStore;
  let seen = 0;
  migratedStore(open, (opened) => ({ store } = opened));

  const charge = (userId: string, limit = 1000): QuotaCharge => ({ subject: `user:${userId}`, defaultLimitBytes: limit, maxPending: 50 });
  const fresh = (userId: string, size = 10, expiresInMs = 60_000): NewUpload => {
    const id = newUploadId();
    return {
      id, userId, orgId: undefined, ownerType: "document", ownerId: undefined, bucket: "private", key: `documents/${userId}/${id}.pdf`,
      staging: { bucket: "private", key: `staging/${id}` }, method: "put", filename: "a.pdf", contentType: "application/pdf",
      declaredSize: size, createdAt: new Date(), expiresAt: new Date(Date.now() + expiresInMs), multipart: undefined,
    };
  };
  /** The events written since the last call, for one upload (all are fanned out to a test target). */
  const eventsOf = async (id: string): Promise<string[]> => {
    const target = `test-${++seen}`;
    while ((await store.events.fanOut({ limit: 100, now: new Date(), targetsOf: () => [target] })) > 0);
    const rows = await store.events.listDeliveries({ target, limit: 1000 });
    return rows.filter((row) => row.uploadId === id).sort((a, b) => (a.eventId < b.eventId ? -1 : 1)).map((row) => row.type);
  };
  const now = () => new Date();
  const confirm = (u: UploadRecord, from: UploadStatus[], scanned = false) =>
    store.confirmUpload({ id: u.id, from, size: u.declaredSize, etag: "\"e\"", charges: [charge(u.userId)], scanned, now: now() });

  /** An upload brought to `status` by the store's own moves. */
  const arrange = async (status: UploadStatus, userId: string, expiresInMs?: number): Promise<UploadRecord> => {
    const created = await store.createUpload({ upload: fresh(userId, 10, expiresInMs), reserve: [charge(userId)], now: now() });
    assert.equal(created.kind, "created");
    let u = (created as { upload: UploadRecord }).upload;
    const scan = async () => {
      const scanning = await store.beginScan({ id: u.id, from: ["pending"], size: 10, etag: "\"e\"", now: now() });
      return typeof scanning === "object" ? scanning : assert.fail(String(scanning));
    };
    if (status === "scanning" || status === "infected") u = await scan();
    if (status === "infected") u = (await store.markInfected({ id: u.id, from: ["scanning"], signature: "Test.Sig", now: now() })) ?? assert.fail();
    if (status === "confirmed") {
      const outcome = await confirm(u, ["pending"]);
      assert.equal(outcome.kind, "confirmed");
      u = (outcome as { upload: UploadRecord }).upload;
    }
    if (status === "rejected") u = (await store.rejectUpload({ id: u.id, from: ["pending"], code: "X", reason: "x", now: now() })) ?? assert.fail();
    assert.equal(u.status, status);
    await eventsOf(u.id); // what arranging it wrote is not the move's
    return u;
  };

  /** Performs one move through the store method the service (or the sweeper) uses for it. */
  const move = async (u: UploadRecord, to: UploadStatus): Promise<UploadStatus | undefined> => {
    const from = sourcesOf(to);
    switch (to) {
      case "scanning":
      {
        const scanning = await store.beginScan({ id: u.id, from, size: 10, etag: "\"e\"", now: now() });
        return typeof scanning === "object" ? scanning.status : undefined;
      }
      case "confirmed": {
        const outcome = await confirm(u, from, u.status === "scanning");
        return outcome.kind === "confirmed" ? outcome.upload.status : undefined;
      }
      case "rejected":
        return (await store.rejectUpload({ id: u.id, from, code: "X", reason: "x", now: now() }))?.status;
      case "infected":
        return (await store.markInfected({ id: u.id, from, signature: "Test.Sig", now: now() }))?.status;
      case "deleted":
        return (await store.deleteUpload({ id: u.id, from, now: now() }))?.status;
      case "expired": {
        const claimed = u.status === "pending"
          ? await store.sweeper.claimAbandoned({ expiredBefore: new Date(Date.now() + 1000), limit: 100, now: now() })
          : await store.sweeper.expireMissing({ ids: [u.id], code: "OBJECT_MISSING", reason: "gone", now: now() });
        return claimed.find((row) => row.id === u.id)?.status;
      }
      default:
        return assert.fail(`no store move to ${to}`);
    }
  };

  for (const [from, targets] of Object.entries(TRANSITIONS) as [UploadStatus, UploadStatus[]][]) {
    for (const to of targets) {
      it(`${from} → ${to}`, async () => {
        const u = await arrange(from, `${from}-${to}`, to === "expired" && from === "pending" ? -1000 : undefined);
        assert.equal(await move(u, to), to);
        assert.equal((await store.findUpload(u.id))?.status, to);
        assert.deepEqual(await eventsOf(u.id), EVENTS[`${from}→${to}`]);
      });
    }
  }

  it("a move the table does not allow changes nothing and writes no event", async () => {
    const deleted = await arrange("rejected", "not-allowed");
    await move(deleted, "deleted");
    await eventsOf(deleted.id);
    assert.equal(await move(deleted, "confirmed"), undefined);
    assert.equal(await move(deleted, "deleted"), undefined);
    assert.equal((await store.findUpload(deleted.id))?.status, "deleted");
    assert.deepEqual(await eventsOf(deleted.id), []);
  });

  it("a scanning upload keeps its reservation when its URL expires; a pending one gives it back", async () => {
    const scanning = await arrange("scanning", "scan-keeps", -1000);
    const pending = await arrange("pending", "pending-releases", -1000);
    assert.equal(await store.releaseExpiredReservations({ userId: scanning.userId, now: now() }), 0);
    assert.equal(await store.releaseExpiredReservations({ userId: pending.userId, now: now() }), 1);
    const released = await store.sweeper.releaseReservations({ expiredBefore: now(), limit: 100, now: now() });
    assert.equal(released.some((row) => row.id === scanning.id), false);
    assert.equal((await store.usage(charge(scanning.userId))).reservedBytes, 10);
  });

  it("a confirm that rolls back (over quota) writes no event", async () => {
    const u = await arrange("pending", "over-quota", -1000);
    // The URL expired: its reservation is given back, so the confirm must charge anew, and cannot.
    await store.releaseExpiredReservations({ userId: u.userId, now: now() });
    const outcome = await store.confirmUpload({ id: u.id, from: ["pending"], size: 5000, etag: "\"e\"", charges: [charge(u.userId, 100)], now: now() });
    assert.equal(outcome.kind, "quota-exceeded");
    assert.equal((await store.findUpload(u.id))?.status, "pending");
    assert.deepEqual(await eventsOf(u.id), []);
  });

  it("moves a late upload through a link (its URL expired) only while the link's uses allow, scan and confirm alike", async () => {
    const userId = `late-${newUploadId()}`;
    const linkId = newUploadId();
    const hour = new Date(Date.now() + 3600_000);
    await store.links.create({
      id: linkId, tokenHash: "0".repeat(64), userId, orgId: undefined, roles: [], ownerType: "document", ownerId: undefined, maxUses: 1,
      maxBytes: undefined, allowedTypes: undefined, note: undefined, createdAt: now(), expiresAt: hour, revokedAt: undefined,
    });
    const through = async (expiresInMs: number) => {
      const upload = { ...fresh(userId, 10, expiresInMs), linkId };
      const outcome = await store.createUpload({ upload, reserve: [charge(userId)], now: now() });
      return outcome.kind === "created" ? outcome.upload : outcome;
    };
    const live = await through(60_000);
    const lapsed = await through(-1000);
    assert.ok("id" in live && "id" in lapsed, "an upload whose URL expired takes no use: both admitted");
    assert.deepEqual(await through(60_000), { kind: "link-refused", reason: "used-up" });
    const late = { id: lapsed.id, from: ["pending"] as UploadStatus[], size: 10, etag: "\"e\"", lateLink: linkId, now: now() };
    assert.equal(await store.beginScan(late), "link-used-up");
    assert.deepEqual(await store.confirmUpload({ ...late, charges: [charge(userId)] }), { kind: "link-used-up" });
    assert.equal((await store.findUpload(lapsed.id))?.status, "pending", "rolled back");
    assert.deepEqual(await eventsOf(lapsed.id), [], "and wrote no event");
    // Once the live one gives its use back, the late one may take it.
    await store.rejectUpload({ id: live.id, from: ["pending"], code: "X", reason: "x", now: now() });
    assert.equal((await store.confirmUpload({ ...late, charges: [charge(userId)] })).kind, "confirmed");
  });
});

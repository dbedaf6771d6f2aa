import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { Dispatcher } from "../../src/events/dispatcher.js";
import type { Subscriber } from "../../src/events/subscriber.js";
import type { OutboxEvent } from "../../src/store/event-store.js";
import { openStore } from "../../src/store/open.js";
import type { MetadataStore } from "../../src/store/store.js";
import { newUploadId } from "../../src/uploads/upload-id.js";

/** The dispatcher on a real SQLite outbox: a stuck subscriber holds neither the others nor a shutdown. */
describe("the dispatcher", () => {
  let dir: string;
  let store: MetadataStore;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "stowage-dispatcher-"));
    store = openStore({ kind: "sqlite", file: join(dir, "stowage.db") });
    await store.migrate();
  });
  after(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A committed change, hence one `upload.rejected` event. */
  const change = async (): Promise<string> => {
    const id = newUploadId();
    await store.insertUpload({
      id, userId: "u", orgId: undefined, ownerType: "document", ownerId: undefined, bucket: "private", key: `d/${id}.pdf`,
      staging: undefined, method: "put", filename: "a.pdf", contentType: "application/pdf", declaredSize: 1,
      createdAt: new Date(), expiresAt: new Date(Date.now() + 60_000), multipart: undefined,
    });
    await store.rejectUpload({ id, from: ["pending"], code: "X", reason: "x", now: new Date() });
    return id;
  };
  const subscriber = (target: string, leaseMs: number, handle: Subscriber["handle"]): Subscriber => ({
    target,
    leaseMs,
    accepts: () => true,
    handle,
    nextAttemptAt: (_attempt, now) => new Date(now.getTime() + 60_000),
  });

  it("cuts an attempt that never ends at its deadline, records it failed, and delivers to the others meanwhile", async () => {
    const got: OutboxEvent[] = [];
    const dispatcher = new Dispatcher({
      store: store.events,
      idleMs: 20,
      subscribers: [
        subscriber("stuck", 500, () => new Promise(() => undefined)),
        subscriber("fine", 500, async (event) => {
          got.push(event);
          return { kind: "done" };
        }),
      ],
    });
    const id = await change();
    dispatcher.start();
    try {
      for (let i = 0; i < 50 && !got.some((e) => e.uploadId === id); i++) await sleep(20);
      assert.ok(got.some((e) => e.uploadId === id), "the other subscriber got nothing while one was stuck");
      let stuck = (await store.events.listDeliveries({ target: "stuck", limit: 10 })).find((d) => d.uploadId === id);
      for (let i = 0; i < 50 && stuck?.lastError === undefined; i++) {
        await sleep(20);
        stuck = (await store.events.listDeliveries({ target: "stuck", limit: 10 })).find((d) => d.uploadId === id);
      }
      assert.equal(stuck?.state, "pending");
      assert.match(stuck?.lastError ?? "", /no outcome within 450 ms/);
    } finally {
      await dispatcher.stop();
    }
  });

  it("stops within its grace even with an attempt in flight that would take a minute", async () => {
    let started = false;
    const dispatcher = new Dispatcher({
      store: store.events,
      idleMs: 20,
      subscribers: [subscriber("slow", 120_000, () => {
        started = true;
        return new Promise(() => undefined);
      })],
    });
    await change();
    dispatcher.start();
    for (let i = 0; i < 50 && !started; i++) await sleep(20);
    assert.ok(started);
    const t0 = performance.now();
    await dispatcher.stop(200);
    assert.ok(performance.now() - t0 < 2000, `stop took ${performance.now() - t0} ms`);
  });

  it("an attempt that outlived its lease settles nothing once the row was claimed again", async () => {
    const id = await change();
    const target = "lease-test";
    while ((await store.events.fanOut({ limit: 100, now: new Date(), targetsOf: () => [target] })) > 0);
    const first = await store.events.claimDue({ limit: 10, now: new Date(), targets: [target], leaseMs: () => 0 });
    const mine = first.find((c) => c.event.uploadId === id);
    assert.equal(mine?.attempt, 1);
    const second = await store.events.claimDue({ limit: 10, now: new Date(Date.now() + 1), targets: [target], leaseMs: () => 60_000 });
    assert.equal(second.find((c) => c.event.uploadId === id)?.attempt, 2);
    await store.events.settle({ eventId: mine?.event.id ?? "", target, attempt: 1, outcome: { kind: "retry", at: new Date() }, now: new Date() });
    const row = (await store.events.listDeliveries({ target, limit: 10 })).find((d) => d.uploadId === id);
    assert.ok((row?.nextAttemptAt.getTime() ?? 0) > Date.now() + 30_000, "the stale attempt shortened the newer claim's lease");
    await store.events.settle({ eventId: mine?.event.id ?? "", target, attempt: 2, outcome: { kind: "delivered" }, now: new Date() });
    assert.equal((await store.events.listDeliveries({ target, limit: 10 })).find((d) => d.uploadId === id)?.state, "delivered");
  });
});

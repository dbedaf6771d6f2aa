import assert from "node:assert/strict";
import type { ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, afterEach, before, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { mintToken } from "../../src/auth/jwt.js";
import type { UploadEvent } from "../../src/uploads/events.js";
import { spawnStowage } from "../helpers/cli.js";
import { tempPostgres, type TestDatabase } from "../helpers/databases.js";
import { PDF, PNG } from "../helpers/fixtures.js";
import { confirm, presignAndPut } from "../helpers/flow.js";
import { putPresigned, rawRequest } from "../helpers/http.js";
import { freePort } from "../helpers/ports.js";
import { startStowage, type TestServer } from "../helpers/server.js";
import { type ReceivedMessage, startWebhookReceiver, type WebhookReceiver } from "../helpers/webhook-receiver.js";

const SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const OTHER_SECRET = "whsec_c3Rvd2FnZS10ZXN0LW90aGVyLXNlY3JldC0wMTIz";

/** A config file naming the endpoints; returns its path. */
function configWith(dir: string, endpoints: Record<string, unknown>[]): string {
  const path = join(dir, `stowage-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(path, JSON.stringify({ webhooks: { endpoints } }));
  return path;
}

const payloadOf = (message: ReceivedMessage) => JSON.parse(message.body) as Omit<UploadEvent, "id">;
const typesFor = (messages: readonly ReceivedMessage[], id: string) =>
  messages.filter((m) => payloadOf(m).data.id === id).map((m) => m.type);

describe("webhooks: signed events from the outbox, on SQLite", () => {
  let dir: string;
  let receiver: WebhookReceiver;
  let filtered: WebhookReceiver;
  let server: TestServer;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "stowage-webhooks-"));
    receiver = await startWebhookReceiver({ secret: SECRET });
    filtered = await startWebhookReceiver({ secret: OTHER_SECRET });
    server = await startStowage({
      STOWAGE_CONFIG_FILE: configWith(dir, [
        { id: "all", url: receiver.url, secrets: [SECRET], timeoutSeconds: 2 },
        { id: "avatars-deleted", url: filtered.url, secrets: [OTHER_SECRET], events: ["upload.deleted"], ownerTypes: ["avatar"] },
      ]),
      STOWAGE_EVENTS_POLL_MS: "50",
    });
  });
  afterEach(() => receiver.clearAnswers());
  after(async () => {
    await server.close();
    await receiver.close();
    await filtered.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("tells confirmed, attached, rejected and deleted, each signed, once, with the upload as its owner sees it", async () => {
    const up = await presignAndPut(server, "alice", PDF, { contentType: "application/pdf", filename: "invoice.pdf" });
    assert.equal((await confirm(server, "alice", up.id)).status, 200);
    const attach = await server.api("POST", "/v1/uploads/attach", { as: "alice", body: { uploadIds: [up.id], parent: { type: "invoice", id: "42" } } });
    assert.equal(attach.status, 200, attach.body.toString());
    assert.equal((await server.api("DELETE", `/v1/uploads/${up.id}`, { as: "alice" })).status, 204);
    const bad = await presignAndPut(server, "alice", PNG, { contentType: "application/pdf", filename: "fake.pdf" });
    assert.equal((await confirm(server, "alice", bad.id)).status, 415);

    await receiver.waitFor((m) => typesFor(m, up.id).length === 3 && typesFor(m, bad.id).length === 1, 10_000);
    assert.deepEqual(typesFor(receiver.messages, up.id), ["upload.confirmed", "upload.attached", "upload.deleted"]);
    assert.deepEqual(typesFor(receiver.messages, bad.id), ["upload.rejected"]);
    const confirmed = receiver.messages.find((m) => m.type === "upload.confirmed" && payloadOf(m).data.id === up.id);
    assert.ok(confirmed !== undefined);
    const payload = payloadOf(confirmed);
    assert.deepEqual(Object.keys(payload).sort(), ["data", "timestamp", "type"]);
    assert.equal(payload.data.status, "confirmed");
    assert.equal(payload.data.filename, "invoice.pdf");
    assert.equal(payload.data.size, PDF.length);
    assert.match(String(confirmed.headers["webhook-signature"]), /^v1,[A-Za-z0-9+/=]+$/);
    assert.equal(confirmed.id, String(confirmed.headers["webhook-id"]));
    assert.equal(receiver.refused.length, 0);
    // Each event once: distinct ids, and nothing for the endpoint that asked only for avatars' deletions.
    const ids = receiver.messages.map((m) => m.id);
    assert.equal(new Set(ids).size, ids.length);
    await sleep(300);
    assert.equal(filtered.requests, 0);
  });

  it("an endpoint that is down gets the event once it is back, with the same id", async () => {
    await receiver.down();
    const up = await presignAndPut(server, "bob", PDF, { contentType: "application/pdf" });
    assert.equal((await confirm(server, "bob", up.id)).status, 200);
    await sleep(1000);
    const row = async () => (await server.runtime.store.events.listDeliveries({ target: "webhook:all", limit: 50 }))
      .find((d) => d.uploadId === up.id);
    assert.equal((await row())?.state, "pending");
    assert.match((await row())?.lastError ?? "", /ECONNREFUSED|closed/);
    await receiver.up();
    // The schedule's first retry is 5 s (±20 %) after the failure.
    const messages = await receiver.waitFor((m) => typesFor(m, up.id).length === 1, 15_000);
    for (let i = 0; i < 50 && (await row())?.state !== "delivered"; i++) await sleep(20);
    const delivered = await row();
    assert.equal(delivered?.state, "delivered");
    assert.ok((delivered?.attempts ?? 0) >= 2);
    assert.equal(messages.find((m) => payloadOf(m).data.id === up.id)?.id, delivered?.eventId);
  });

  it("a 410 Gone disables the endpoint; retry re-enables it and delivers what was held", async () => {
    receiver.answer({ status: 410 });
    const first = await presignAndPut(server, "carol", PDF, { contentType: "application/pdf" });
    assert.equal((await confirm(server, "carol", first.id)).status, 200);
    await receiver.waitFor((m) => typesFor(m, first.id).length === 1, 10_000);
    await sleep(300);
    assert.equal((await server.runtime.store.events.disabledTargets()).has("webhook:all"), true);
    const second = await presignAndPut(server, "carol", PDF, { contentType: "application/pdf" });
    assert.equal((await confirm(server, "carol", second.id)).status, 200);
    await sleep(500);
    assert.deepEqual(typesFor(receiver.messages, second.id), []);
    const retried = await server.runtime.store.events.retry({ target: "webhook:all", now: new Date() });
    assert.ok(retried >= 1);
    await receiver.waitFor((m) => typesFor(m, second.id).length === 1 && typesFor(m, first.id).length === 2, 10_000);
  });

  it("onEvent: in-process listeners get the same events", async () => {
    const seen: UploadEvent[] = [];
    const stop = server.runtime.onEvent((event) => {
      seen.push(event);
    });
    try {
      const up = await presignAndPut(server, "dave", PDF, { contentType: "application/pdf" });
      assert.equal((await confirm(server, "dave", up.id)).status, 200);
      for (let i = 0; i < 100 && !seen.some((e) => e.data.id === up.id); i++) await sleep(50);
      const event = seen.find((e) => e.data.id === up.id);
      assert.equal(event?.type, "upload.confirmed");
      assert.equal(event?.data.status, "confirmed");
    } finally {
      stop();
    }
  });
});

describe("webhooks: a dispatcher killed mid-delivery", () => {
  let dir: string;
  let receiver: WebhookReceiver;
  const children: ChildProcess[] = [];
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "stowage-webhooks-kill-"));
    receiver = await startWebhookReceiver({ secret: SECRET });
  });
  after(async () => {
    for (const child of children) child.kill("SIGKILL");
    await receiver.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("kill -9 while the endpoint holds the request: after restart the event is delivered again, same id", async () => {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const env = {
      STOWAGE_DATA_DIR: dir,
      STOWAGE_PORT: String(port),
      STOWAGE_JWT_SECRET: "webhooks-kill-test-jwt-secret-0123456789",
      STOWAGE_SIGNING_SECRET: "webhooks-kill-test-signing-secret-012345",
      STOWAGE_SWEEP_INTERVAL_SECONDS: "0",
      STOWAGE_EVENTS_POLL_MS: "50",
      STOWAGE_CONFIG_FILE: configWith(dir, [{ id: "slow", url: receiver.url, secrets: [SECRET], timeoutSeconds: 2 }]),
      LOG_LEVEL: "warn",
    };
    const start = async () => {
      const child = spawnStowage(["serve"], env);
      children.push(child);
      for (let i = 0; i < 200; i++) {
        if (await rawRequest(`${base}/healthz`).then((r) => r.status === 200, () => false)) return child;
        await sleep(100);
      }
      throw new Error("serve did not start");
    };
    const first = await start();
    const auth = { authorization: `Bearer ${await mintToken({ secret: env.STOWAGE_JWT_SECRET, subject: "erin", expiresInSeconds: 600 })}` };
    receiver.answer({ status: 200, hang: "head" });
    const presigned = await rawRequest(`${base}/v1/uploads`, {
      method: "POST",
      headers: { ...auth, "content-type": "application/json" },
      body: JSON.stringify({ ownerType: "document", filename: "a.pdf", contentType: "application/pdf", size: PDF.length }),
    });
    const up = presigned.json<{ id: string; url: string; headers: Record<string, string> }>();
    assert.equal((await putPresigned(up, PDF)).status, 200);
    assert.equal((await rawRequest(`${base}/v1/uploads/${up.id}/confirm`, { method: "POST", headers: auth })).status, 200);
    const [held] = await receiver.waitFor((m) => m.length >= 1, 10_000);
    first.kill("SIGKILL");
    await new Promise((resolve) => first.once("exit", resolve));
    await start();
    // The killed claim's lease (timeout 2 s + 5 s) runs out, then the restarted dispatcher sends it again.
    const messages = await receiver.waitFor((m) => m.length >= 2, 20_000);
    assert.equal(messages[1]?.id, held?.id);
    assert.equal(messages[1]?.body, held?.body);
  });
});

describe("webhooks: two instances on PostgreSQL", () => {
  let database: TestDatabase;
  let dir: string;
  let receiver: WebhookReceiver;
  const servers: TestServer[] = [];
  before(async () => {
    database = await tempPostgres();
    dir = mkdtempSync(join(tmpdir(), "stowage-webhooks-pg-"));
    receiver = await startWebhookReceiver({ secret: SECRET });
    const env = {
      ...database.env,
      STOWAGE_CONFIG_FILE: configWith(dir, [{ id: "shared", url: receiver.url, secrets: [SECRET] }]),
      STOWAGE_EVENTS_POLL_MS: "20",
    };
    servers.push(await startStowage(env), await startStowage(env));
  });
  after(async () => {
    for (const server of servers) await server.close();
    await receiver.close();
    await database.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("each event is delivered once, whichever instance wrote it", async () => {
    const [a, b] = servers as [TestServer, TestServer];
    // A slow receiver keeps deliveries in flight while both dispatchers look for work.
    receiver.answer(...Array.from({ length: 40 }, () => ({ status: 200, delayMs: 30 })));
    const ids: string[] = [];
    await Promise.all(Array.from({ length: 20 }, async (_, i) => {
      const server = i % 2 === 0 ? a : b;
      const up = await presignAndPut(server, `user${i % 4}`, PDF, { contentType: "application/pdf" });
      assert.equal((await confirm(server, `user${i % 4}`, up.id)).status, 200);
      ids.push(up.id);
    }));
    await receiver.waitFor((m) => ids.every((id) => typesFor(m, id).length >= 1), 15_000);
    await sleep(500);
    const deliveredIds = receiver.messages.map((m) => m.id);
    assert.equal(deliveredIds.length, 20);
    assert.equal(new Set(deliveredIds).size, 20);
  });
});

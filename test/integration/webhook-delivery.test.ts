import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, beforeEach, describe, it } from "node:test";
import { deliverWebhook, type DeliveryOptions } from "../../src/webhooks/deliver.js";
import { MAX_RETRY_DELAY_MS } from "../../src/webhooks/schedule.js";
import { startWebhookReceiver, type WebhookReceiver } from "../helpers/webhook-receiver.js";

const newSecret = () => `whsec_${randomBytes(32).toString("base64")}`;
const SECRET = newSecret();
const VERSION = "1.2.3-test";
const body = JSON.stringify({
  type: "upload.confirmed",
  timestamp: "2026-12-01T10:00:00.000Z",
  data: { id: "01JD8X", ownerType: "document", filename: "résumé.pdf", status: "confirmed" },
});

let receiver: WebhookReceiver;
let counter = 0;
before(async () => {
  receiver = await startWebhookReceiver({ secret: SECRET });
});
after(() => receiver.close());
beforeEach(() => {
  counter++;
  receiver.clearAnswers();
});

/** One attempt at the shared receiver (or `url`), with a fresh message id. */
function attempt(overrides: Partial<DeliveryOptions["endpoint"]> = {}, options: Partial<DeliveryOptions> = {}) {
  return deliverWebhook({
    endpoint: { url: receiver.url, secrets: [SECRET], timeoutSeconds: 5, ...overrides },
    message: { id: `msg_${counter}`, body },
    version: VERSION,
    ...options,
  });
}
const messagesWith = (id: string) => receiver.messages.filter((m) => m.id === id);

// A bound, so a broken timeout fails the run rather than hanging it.
describe("deliverWebhook to a real receiver", { timeout: 30_000 }, () => {
  it("delivers a message the receiver verifies with standardwebhooks, byte for byte", async () => {
    assert.deepEqual(await attempt(), { kind: "delivered", status: 204 });
    const [message] = messagesWith(`msg_${counter}`);
    assert.ok(message !== undefined);
    assert.equal(message.type, "upload.confirmed");
    assert.equal(message.body, body);
    assert.equal(message.headers["content-type"], "application/json");
    assert.equal(message.headers["user-agent"], `Stowage-Webhooks/${VERSION}`);
    assert.ok(Math.abs(Number(message.headers["webhook-timestamp"]) - Date.now() / 1000) < 5);
  });

  it("is verified during a rotation by a receiver that knows only the new secret, or only the old one", async () => {
    const fresh = newSecret();
    const knowsNew = await startWebhookReceiver({ secret: fresh });
    try {
      assert.equal((await attempt({ url: knowsNew.url, secrets: [fresh, SECRET] })).kind, "delivered");
      assert.equal((await attempt({ url: knowsNew.url, secrets: [SECRET, fresh] })).kind, "delivered");
      assert.equal(knowsNew.messages.length, 2);
      assert.equal((await attempt({ secrets: [fresh, SECRET] })).kind, "delivered", "the old secret's receiver too");
    } finally {
      await knowsNew.close();
    }
  });

  it("is refused when signed with a secret the receiver does not know: a 400, retried", async () => {
    assert.deepEqual(await attempt({ secrets: [newSecret()] }), { kind: "retry", status: 400 });
    assert.equal(messagesWith(`msg_${counter}`).length, 0);
    assert.match(receiver.refused.at(-1)?.reason ?? "", /No matching signature/);
  });

  it("retries a 500 and a 429, with the Retry-After they ask for (seconds or a date), capped", async () => {
    receiver.answer({ status: 500, retryAfter: "120" });
    assert.deepEqual(await attempt(), { kind: "retry", status: 500, retryAfterMs: 120_000 });

    receiver.answer({ status: 429, retryAfter: new Date(Date.now() + 600_000).toUTCString() });
    const limited = await attempt();
    assert.equal(limited.kind, "retry");
    assert.equal(limited.status, 429);
    const asked = limited.kind === "retry" ? limited.retryAfterMs ?? 0 : 0;
    assert.ok(asked > 590_000 && asked <= 600_000, String(asked));

    receiver.answer({ status: 503, retryAfter: String(30 * 86_400) });
    assert.deepEqual(await attempt(), { kind: "retry", status: 503, retryAfterMs: MAX_RETRY_DELAY_MS });

    receiver.answer({ status: 502 });
    assert.deepEqual(await attempt(), { kind: "retry", status: 502 });
  });

  it("retries other 4xx answers too (a deploy gone wrong is fixed within the retry window)", async () => {
    receiver.answer({ status: 404 }, { status: 401 });
    assert.deepEqual(await attempt(), { kind: "retry", status: 404 });
    assert.deepEqual(await attempt(), { kind: "retry", status: 401 });
  });

  it("reports 410 as gone", async () => {
    receiver.answer({ status: 410 });
    assert.deepEqual(await attempt(), { kind: "gone", status: 410 });
  });

  it("counts any 2xx as delivered", async () => {
    receiver.answer({ status: 200 }, { status: 202 });
    assert.deepEqual(await attempt(), { kind: "delivered", status: 200 });
    assert.deepEqual(await attempt(), { kind: "delivered", status: 202 });
  });

  it("never follows a redirect: a 302 is retried and its target receives nothing", async () => {
    const target = await startWebhookReceiver({ secret: SECRET });
    try {
      receiver.answer({ status: 302, location: target.url }, { status: 307, location: target.url });
      for (const status of [302, 307]) {
        const result = await attempt();
        assert.deepEqual(result, { kind: "retry", status, error: `redirect to ${target.url} not followed` });
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
      assert.equal(target.requests, 0);
    } finally {
      await target.close();
    }
  });

  it("gives up on a receiver that never answers, or never finishes its answer, within the endpoint's timeout", async () => {
    for (const hang of ["head", "body"] as const) {
      receiver.answer({ status: 200, hang });
      const started = Date.now();
      const result = await attempt({ timeoutSeconds: 1 });
      const took = Date.now() - started;
      assert.deepEqual(result, { kind: "retry", error: "no complete answer within 1 s" }, hang);
      assert.ok(took >= 900 && took < 3000, `${hang}: took ${took} ms`);
    }
    receiver.answer({ status: 200, delayMs: 1500 });
    assert.equal((await attempt({ timeoutSeconds: 1 })).kind, "retry", "a slow answer");
  });

  it("reads at most a capped part of an endless answer", async () => {
    receiver.answer({ status: 200, hang: "endless" });
    const started = Date.now();
    assert.deepEqual(await attempt({ timeoutSeconds: 3 }), { kind: "delivered", status: 200 });
    assert.ok(Date.now() - started < 2000);
  });

  it("retries with the network's reason while the receiver is down, and delivers once it is back", async () => {
    await receiver.down();
    try {
      // The first attempt may still pick a keep-alive connection the receiver just closed ("other side
      // closed"): a failure too, as it would be against a receiver that restarts. A new one is refused.
      const errors: string[] = [];
      for (let i = 0; i < 3 && !errors.some((e) => e.includes("ECONNREFUSED")); i++) {
        const result = await attempt();
        assert.equal(result.kind, "retry");
        assert.equal(result.status, undefined);
        errors.push(result.kind === "retry" ? result.error ?? "" : "");
      }
      assert.match(errors.at(-1) ?? "", /ECONNREFUSED/, errors.join(" | "));
    } finally {
      await receiver.up();
    }
    assert.deepEqual(await attempt(), { kind: "delivered", status: 204 });
    await receiver.waitFor((messages) => messages.some((m) => m.id === `msg_${counter}`), 1000);
  });

  it("refuses a URL it cannot reach at all (no such host) as a retry, not a throw", async () => {
    const result = await attempt({ url: "http://stowage-webhook-test.invalid/hooks", timeoutSeconds: 3 });
    assert.equal(result.kind, "retry");
    assert.ok(result.kind === "retry" && result.error !== undefined && result.error.length > 0);
  });

  it("throws the caller's abort reason (shutdown) rather than calling it a failed attempt", async () => {
    receiver.answer({ status: 200, hang: "head" });
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error("shutting down")), 100);
    await assert.rejects(attempt({}, { signal: controller.signal }), /shutting down/);
    const before = receiver.requests;
    await assert.rejects(attempt({}, { signal: AbortSignal.abort(new Error("already down")) }), /already down/);
    assert.equal(receiver.requests, before, "nothing is sent once the caller has aborted");
  });
});

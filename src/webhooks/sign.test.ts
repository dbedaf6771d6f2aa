import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { describe, it } from "node:test";
import { Webhook } from "standardwebhooks";
import { signWebhook } from "./sign.js";

const newSecret = () => `whsec_${randomBytes(32).toString("base64")}`;
const body = JSON.stringify({ type: "upload.confirmed", timestamp: "2026-12-01T10:00:00.000Z", data: { id: "u1", name: "ü.png" } });

describe("signWebhook", () => {
  it("gives the three headers a Standard Webhooks receiver verifies, with each of the endpoint's secrets", () => {
    const secrets = [newSecret(), newSecret()];
    const now = new Date();
    const headers = signWebhook({ id: "msg_1", timestamp: now, body }, secrets);
    assert.equal(headers["webhook-id"], "msg_1");
    assert.equal(headers["webhook-timestamp"], String(Math.floor(now.getTime() / 1000)));
    assert.match(headers["webhook-signature"], /^v1,[A-Za-z0-9+/]+=* v1,[A-Za-z0-9+/]+=*$/);
    for (const secret of secrets) {
      assert.deepEqual(new Webhook(secret).verify(body, { ...headers }), JSON.parse(body));
      // As bytes too: receivers often verify the raw request body.
      new Webhook(secret).verify(Buffer.from(body), { ...headers });
    }
  });

  it("is refused for a tampered body, another id, another secret, or an old timestamp", () => {
    const secret = newSecret();
    const headers = signWebhook({ id: "msg_1", timestamp: new Date(), body }, [secret]);
    const receiver = new Webhook(secret);
    assert.throws(() => receiver.verify(body.replace("u1", "u2"), { ...headers }), /No matching signature/);
    assert.throws(() => receiver.verify(body, { ...headers, "webhook-id": "msg_2" }), /No matching signature/);
    assert.throws(() => new Webhook(newSecret()).verify(body, { ...headers }), /No matching signature/);
    const old = signWebhook({ id: "msg_1", timestamp: new Date(Date.now() - 6 * 60_000), body }, [secret]);
    assert.throws(() => receiver.verify(body, { ...old }), /too old/);
  });

  it("refuses to sign without a secret", () => {
    assert.throws(() => signWebhook({ id: "msg_1", timestamp: new Date(), body }, []), TypeError);
  });
});

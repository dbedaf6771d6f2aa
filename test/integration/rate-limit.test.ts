import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { presign } from "../helpers/flow.js";
import { startStowage, type TestServer } from "../helpers/server.js";

/**
 * The presign rate limit without Redis: the in-process limiter decides alone (the Redis limiter
 * and its fallback are in redis.test.ts). The window's reset is in the limiter's unit test,
 * with its clock in hand; waiting out a real minute here would buy nothing more.
 */
describe("presign rate limit, in process (no REDIS_URL)", () => {
  let server: TestServer;
  before(async () => {
    server = await startStowage({ STOWAGE_PRESIGN_RATE_LIMIT: "3" });
  });
  after(() => server.close());

  const pdf = { contentType: "application/pdf", size: 10 };

  it("refuses the presign beyond STOWAGE_PRESIGN_RATE_LIMIT a minute with 429 RATE_LIMITED and the window's Retry-After", async () => {
    assert.equal(server.config.redisUrl, undefined, "no Redis: the in-process limiter is the only one");
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await presign(server, "hasty", pdf)).status);
    assert.deepEqual(statuses, [201, 201, 201, 429]);
    const refused = await presign(server, "hasty", pdf);
    assert.equal(refused.status, 429, "and keeps refusing within the window");
    const { code, details } = refused.json().error;
    assert.equal(code, "RATE_LIMITED");
    // The window began with the first presign, moments ago: most of its 60 s are left.
    const retryAfter = Number(refused.headers["retry-after"]);
    assert.ok(retryAfter > 45 && retryAfter <= 60, `Retry-After ${refused.headers["retry-after"]}`);
    assert.equal(details.retryAfterSeconds, retryAfter, "the body and the header agree");
    assert.equal((await presign(server, "patient", pdf)).status, 201, "per user");
  });
});

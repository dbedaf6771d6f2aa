import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { after, before, describe, it } from "node:test";
import { Redis } from "ioredis";
import { PDF } from "../helpers/fixtures.js";
import { confirm, presign, presignAndPut } from "../helpers/flow.js";
import { freePort, startStowage, type TestServer } from "../helpers/server.js";

/** A Redis server of this test's own, so it can be stopped mid-test without touching others. */
async function startRedis(port: number): Promise<ChildProcess> {
  const child = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], {
    stdio: "ignore",
  });
  const client = new Redis({ port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  client.on("error", () => undefined);
  for (let i = 0; i < 50; i++) {
    try {
      await client.connect();
      await client.ping();
      client.disconnect();
      return child;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`redis-server did not start on port ${port}`);
}

async function stopRedis(child: ChildProcess): Promise<void> {
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGKILL");
  await exited;
}

describe("Redis: shared URL cache and rate limits, and life without it", () => {
  let port: number;
  let redisProcess: ChildProcess;
  let a: TestServer;
  let b: TestServer;
  let redis: Redis;

  before(async () => {
    port = await freePort();
    redisProcess = await startRedis(port);
    const env = { REDIS_URL: `redis://127.0.0.1:${port}`, STOWAGE_PRESIGN_RATE_LIMIT: "5" };
    a = await startStowage(env);
    b = await startStowage(env);
    redis = new Redis({ port, maxRetriesPerRequest: 1 });
    redis.on("error", () => undefined);
  });
  after(async () => {
    redis.disconnect();
    await a.close();
    await b.close();
    if (redisProcess.exitCode === null) await stopRedis(redisProcess);
  });

  it("keeps signed download URLs in Redis until expiry minus a margin", async () => {
    const up = await presignAndPut(a, "cached", PDF, { contentType: "application/pdf" });
    await confirm(a, "cached", up.id);
    const first = (await a.api("GET", `/v1/uploads/${up.id}/download`, { as: "cached" })).json();
    const second = (await a.api("GET", `/v1/uploads/${up.id}/download`, { as: "cached" })).json();
    assert.equal(second.url, first.url, "the same URL is handed out again");
    const keys = await redis.keys("stowage:url:*");
    assert.equal(keys.length, 1);
    const ttl = await redis.pttl(keys[0] as string);
    // Default download TTL 300 s, margin 60 s: kept ~240 s.
    assert.ok(ttl > 230_000 && ttl <= 240_000, `ttl ${ttl}`);
  });

  it("limits presigns per user across instances", async () => {
    const statuses: number[] = [];
    for (const server of [a, b, a, b, a, b]) {
      statuses.push((await presign(server, "eager", { contentType: "application/pdf", size: 10 })).status);
    }
    assert.deepEqual(statuses, [201, 201, 201, 201, 201, 429]);
    const refused = await presign(b, "eager", { contentType: "application/pdf", size: 10 });
    assert.equal(refused.json().error.code, "RATE_LIMITED");
    assert.ok(Number(refused.headers["retry-after"]) >= 1);
    assert.equal((await presign(a, "someone-else", { contentType: "application/pdf", size: 10 })).status, 201, "per user");
  });

  it("keeps uploads working while Redis is down, and uses it again when it is back", async () => {
    await stopRedis(redisProcess);
    const started = Date.now();
    const up = await presignAndPut(a, "outage", PDF, { contentType: "application/pdf" });
    assert.equal((await confirm(a, "outage", up.id)).status, 200);
    const dl = await a.api("GET", `/v1/uploads/${up.id}/download`, { as: "outage" });
    assert.equal(dl.status, 200);
    const again = await a.api("GET", `/v1/uploads/${up.id}/download`, { as: "outage" });
    assert.equal(again.json().url, dl.json().url, "the in-process fallback caches too");
    assert.ok(Date.now() - started < 5000, "no request waited on the dead Redis");
    assert.equal((await a.api("GET", "/readyz")).status, 200, "Redis is optional: still ready");

    redisProcess = await startRedis(port);
    let back = false;
    for (let i = 0; i < 40 && !back; i++) {
      await presign(a, "after-outage", { contentType: "application/pdf", size: 10 });
      back = (await redis.keys("stowage:rate:presign:user:after-outage")).length > 0;
      if (!back) await new Promise((r) => setTimeout(r, 250));
    }
    assert.ok(back, "the limiter writes to Redis again after it returns");
  });
});

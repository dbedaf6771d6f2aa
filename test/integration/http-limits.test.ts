import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { png } from "../helpers/fixtures.js";
import { confirm, type Presigned, presign } from "../helpers/flow.js";
import { putPresigned, rawRequest } from "../helpers/http.js";
import { startStowage, type TestServer } from "../helpers/server.js";
import { MiB, sweepConfigFile } from "../helpers/sweep.js";
import { jsonOf, slowClient } from "../helpers/slow-client.js";

// Short limits so the tests take seconds: the defaults are 30 s (request, stall) and 65 s (idle).
const LIMITS = {
  STOWAGE_REQUEST_TIMEOUT_SECONDS: "2",
  STOWAGE_STALL_TIMEOUT_SECONDS: "1",
  STOWAGE_IDLE_TIMEOUT_SECONDS: "3",
};

describe("connection limits (SQLite + local disk)", () => {
  let server: TestServer;
  before(async () => {
    server = await startStowage(LIMITS);
  });
  after(() => server.close());

  const tmpFiles = () => readdirSync(join(server.dataDir, "storage", "tmp")).filter((name) => name !== "multipart");
  const answersNow = async () => {
    const health = await rawRequest(`${server.baseUrl}/healthz`);
    const quota = await server.api("GET", "/v1/quota", { as: "bystander" });
    return [health.status, quota.status];
  };

  it("refuses a request without a valid token on arrival, before reading its body", async () => {
    for (const authorization of [undefined, "Bearer not.a.jwt"]) {
      const client = slowClient(server.baseUrl, {
        method: "POST",
        path: "/v1/uploads",
        headers: { "Content-Type": "application/json", "Content-Length": "1000", ...(authorization ? { Authorization: authorization } : {}) },
        body: "{",
      });
      // The answer comes while the body is still 999 bytes short, not when a timeout cuts it.
      const started = Date.now();
      while (!client.socket.destroyed && !client.received().includes("\r\n\r\n{")) await sleep(20);
      await sleep(20);
      const text = client.received();
      assert.match(text, /^HTTP\/1\.1 401 /, authorization ?? "no header");
      assert.equal(jsonOf(text).error.code, "UNAUTHENTICATED");
      assert.ok(Date.now() - started < 1000, `answered after ${Date.now() - started} ms`);
      client.socket.destroy();
    }
  });

  it("cuts stalled API bodies with 408 within the request timeout, answering other clients throughout", async () => {
    const token = await server.token("alice");
    const clients = Array.from({ length: 20 }, () =>
      slowClient(server.baseUrl, {
        method: "POST",
        path: "/v1/uploads",
        headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json", "Content-Length": "1000" },
        body: "{",
      }),
    );
    // One more that keeps trickling (a byte every 400 ms, under the stall timeout): the deadline cuts it.
    const trickler = slowClient(server.baseUrl, {
      method: "POST",
      path: "/v1/uploads",
      headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json", "Content-Length": "1000" },
      body: "{",
    });
    const drip = setInterval(() => trickler.send(" "), 400);
    try {
      await sleep(300);
      assert.deepEqual(await answersNow(), [200, 200], "others are answered while 21 clients stall");
      const outcomes = await Promise.all(clients.map((c) => c.outcome));
      for (const outcome of outcomes) {
        assert.equal(outcome.status, 408, outcome.text);
        assert.equal(jsonOf(outcome.text).error.code, "REQUEST_TIMEOUT");
        // The stall timeout (1 s) cuts these; never later than the request timeout (2 s) and a margin.
        assert.ok(outcome.closedAfterMs >= 900 && outcome.closedAfterMs < 3000, `closed after ${outcome.closedAfterMs} ms`);
      }
      const trickled = await trickler.outcome;
      assert.equal(trickled.status, 408, trickled.text);
      assert.match(jsonOf(trickled.text).error.message, /did not fully arrive within 2 s/);
      assert.ok(trickled.closedAfterMs >= 1900 && trickled.closedAfterMs < 4000, `closed after ${trickled.closedAfterMs} ms`);
    } finally {
      clearInterval(drip);
    }
    assert.deepEqual(await answersNow(), [200, 200]);
  });

  it("outlives bodies it refused without reading (415, a declared length over the limit)", async () => {
    const token = await server.token("alice");
    for (const headers of [
      { "Content-Type": "text/plain", "Content-Length": "10" },
      { "Content-Type": "application/json", "Content-Length": String(10 * 1024 * 1024) },
    ]) {
      const client = slowClient(server.baseUrl, { method: "POST", path: "/v1/uploads", headers: { Authorization: `Bearer ${token}`, ...headers }, body: "{" });
      while (!client.received().includes("\r\n\r\n{")) await sleep(20);
      assert.match(client.received(), /^HTTP\/1\.1 41[35] /);
      client.socket.destroy();
    }
    // Past the request timeout of the bodies nobody read: the server is still up.
    await sleep(2500);
    assert.deepEqual(await answersNow(), [200, 200]);
  });

  it("cuts a stalled /storage PUT within the stall timeout and removes its temp file", async () => {
    const size = 1_900_000;
    const res = await presign(server, "alice", { ownerType: "document", contentType: "image/png", size, filename: "big.png" });
    assert.equal(res.status, 201, res.body.toString());
    const up = res.json<Presigned>();
    const bytes = png(size);
    const url = new URL(up.url);
    const client = slowClient(server.baseUrl, {
      method: "PUT",
      path: `${url.pathname}${url.search}`,
      headers: { ...up.headers, "Content-Length": String(size) },
      body: bytes.subarray(0, 1000),
    });
    await sleep(300);
    assert.equal(tmpFiles().length, 1, "the upload is being written to a temp file");
    assert.deepEqual(await answersNow(), [200, 200]);
    const outcome = await client.outcome;
    assert.equal(outcome.status, 408, outcome.text);
    assert.equal(jsonOf(outcome.text).error.code, "REQUEST_TIMEOUT");
    assert.ok(outcome.closedAfterMs >= 900 && outcome.closedAfterMs < 2500, `closed after ${outcome.closedAfterMs} ms`);
    assert.deepEqual(tmpFiles(), [], "the temp file is gone");

    // The URL still works for a whole upload, and one that keeps moving may take longer than
    // the request timeout: only API bodies have a deadline.
    const slow = new (await import("node:stream")).PassThrough();
    const put = putPresigned(up, slow);
    const chunk = Math.ceil(size / 8);
    for (let at = 0; at < size; at += chunk) {
      slow.write(bytes.subarray(at, at + chunk));
      await sleep(400);
    }
    slow.end();
    assert.equal((await put).status, 200, "3.2 s of steady upload is not cut");
    assert.equal((await confirm(server, "alice", up.id)).status, 200);
  });

  it("cuts a /storage PUT that trickles slower than 1 KiB/s on average", async () => {
    // 2,048 bytes may take the request timeout (2 s) + 2 s; a byte every 400 ms never stalls.
    const size = 2048;
    const res = await presign(server, "alice", { ownerType: "document", contentType: "image/png", size, filename: "drip.png" });
    assert.equal(res.status, 201, res.body.toString());
    const up = res.json<Presigned>();
    const url = new URL(up.url);
    const client = slowClient(server.baseUrl, {
      method: "PUT",
      path: `${url.pathname}${url.search}`,
      headers: { ...up.headers, "Content-Length": String(size) },
      body: png(size).subarray(0, 100),
    });
    const drip = setInterval(() => client.send("x"), 400);
    try {
      const outcome = await client.outcome;
      assert.equal(outcome.status, 408, outcome.text);
      assert.match(jsonOf(outcome.text).error.message, /did not fully arrive within 4 s/);
      assert.ok(outcome.closedAfterMs >= 3900 && outcome.closedAfterMs < 6000, `closed after ${outcome.closedAfterMs} ms`);
    } finally {
      clearInterval(drip);
    }
    assert.deepEqual(tmpFiles(), []);
  });

  it("closes a connection that sends nothing, and one idle after its answer", async () => {
    // The head never ends: Node's headers timeout (the request timeout, checked every second).
    const silent = slowClient(server.baseUrl, { method: "GET", path: "/healthz", headers: { "X-Partial": "a" }, headEnds: false });
    const cut = await silent.outcome;
    assert.equal(cut.status, 408, cut.text);
    assert.ok(cut.closedAfterMs >= 1900 && cut.closedAfterMs < 4000, `closed after ${cut.closedAfterMs} ms`);

    const kept = slowClient(server.baseUrl, { method: "GET", path: "/healthz", headers: { Connection: "keep-alive" } });
    const idle = await kept.outcome;
    assert.equal(idle.status, 200);
    assert.ok(idle.closedAfterMs >= 2900 && idle.closedAfterMs < 5000, `closed after ${idle.closedAfterMs} ms`);
  });
});

describe("connection cap", () => {
  let server: TestServer;
  before(async () => {
    server = await startStowage({ ...LIMITS, STOWAGE_MAX_CONNECTIONS: "5" });
  });
  after(() => server.close());

  it("closes connections beyond STOWAGE_MAX_CONNECTIONS at once, and serves again once they are gone", async () => {
    const held = Array.from({ length: 5 }, () => slowClient(server.baseUrl, { method: "GET", path: "/healthz", headers: { Connection: "keep-alive" } }));
    await sleep(300);
    const extra = slowClient(server.baseUrl, { method: "GET", path: "/healthz", headers: {} });
    const refused = await extra.outcome;
    assert.equal(refused.status, undefined, "no answer beyond the cap");
    assert.ok(refused.closedAfterMs < 1000, `closed after ${refused.closedAfterMs} ms`);
    for (const client of held) client.socket.destroy();
    await Promise.all(held.map((c) => c.outcome));
    assert.equal((await rawRequest(`${server.baseUrl}/healthz`)).status, 200);
  });
});

describe("refused uploads on a kept-alive connection", () => {
  let server: TestServer;
  before(async () => {
    server = await startStowage({ ...LIMITS, STOWAGE_CONFIG_FILE: sweepConfigFile() });
  });
  after(() => server.close());

  it("closes the connection of a part PUT refused before its body was read, so no next request waits behind it", async () => {
    const size = 6 * MiB;
    const res = await presign(server, "vid", { ownerType: "video", contentType: "video/mp4", size, filename: "clip.mp4" });
    assert.equal(res.status, 201, res.body.toString());
    const up = res.json();
    assert.equal((await server.api("DELETE", `/v1/uploads/${up.id}`, { as: "vid" })).status, 204);
    const part: { url: string; headers: Record<string, string> } = up.multipart.parts[0];
    const url = new URL(part.url);
    // The body follows in full, then a second request on the same connection (as a keep-alive
    // client sends it once its write is done): the server must not leave either unread.
    const client = slowClient(server.baseUrl, {
      method: "PUT",
      path: `${url.pathname}${url.search}`,
      headers: { ...part.headers, "Content-Length": String(up.multipart.partSize) },
      body: Buffer.concat([Buffer.alloc(up.multipart.partSize), Buffer.from(`GET /healthz HTTP/1.1\r\nHost: ${url.host}\r\n\r\n`)]),
    });
    const outcome = await client.outcome;
    assert.match(outcome.text, /^HTTP\/1\.1 410 /);
    assert.match(outcome.text, /\r\nconnection: close\r\n/i);
    // Closed with the answer, not by the idle timeout (3 s) with a request left waiting.
    assert.ok(outcome.closedAfterMs < 1500, `closed after ${outcome.closedAfterMs} ms`);
  });
});

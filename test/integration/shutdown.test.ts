import assert from "node:assert/strict";
import type { ChildProcess } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { mintToken } from "../../src/auth/jwt.js";
import { spawnStowage } from "../helpers/cli.js";
import { PNG, png } from "../helpers/fixtures.js";
import { putPresigned, rawRequest } from "../helpers/http.js";
import { freePort } from "../helpers/ports.js";
import { jsonOf, slowClient } from "../helpers/slow-client.js";

const JWT_SECRET = "shutdown-test-jwt-secret-0123456789abcdef";

/** `stowage serve` as a real process on `dataDir`, up once it answers /healthz. */
async function serve(dataDir: string, port: number, env: Record<string, string> = {}): Promise<ChildProcess> {
  const child = spawnStowage(["serve"], {
    STOWAGE_DATA_DIR: dataDir,
    STOWAGE_PORT: String(port),
    STOWAGE_JWT_SECRET: JWT_SECRET,
    STOWAGE_SIGNING_SECRET: "shutdown-test-signing-secret-0123456789ab",
    STOWAGE_SWEEP_INTERVAL_SECONDS: "0",
    LOG_LEVEL: "warn",
    ...env,
  });
  let stderr = "";
  child.stderr?.on("data", (c: Buffer) => (stderr += c));
  const exited = new Promise<never>((_, reject) => child.once("exit", (code) => reject(new Error(`serve exited ${code}: ${stderr}`))));
  const healthy = (async () => {
    for (;;) {
      const ok = await rawRequest(`http://127.0.0.1:${port}/healthz`).then((r) => r.status === 200, () => false);
      if (ok) return child;
      await sleep(100);
    }
  })();
  return Promise.race([healthy, exited]);
}

/** Resolves with the exit code and how long after the call the process took to exit. */
function exitOf(child: ChildProcess): Promise<{ code: number | null; afterMs: number }> {
  const started = Date.now();
  return new Promise((resolve) => child.once("exit", (code) => resolve({ code, afterMs: Date.now() - started })));
}

describe("stowage serve: shutdown and restart", () => {
  let dataDir: string;
  let port: number;
  let base: string;
  let auth: Record<string, string>;
  const children: ChildProcess[] = [];
  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), "stowage-shutdown-"));
    port = await freePort();
    base = `http://127.0.0.1:${port}`;
    auth = { authorization: `Bearer ${await mintToken({ secret: JWT_SECRET, subject: "alice", expiresInSeconds: 600 })}` };
  });
  after(() => {
    for (const child of children) child.kill("SIGKILL");
    rmSync(dataDir, { recursive: true, force: true });
  });

  const presign = async (size: number) => {
    const res = await rawRequest(`${base}/v1/uploads`, {
      method: "POST",
      headers: { ...auth, "content-type": "application/json" },
      body: JSON.stringify({ ownerType: "document", filename: "f.png", contentType: "image/png", size }),
    });
    assert.equal(res.status, 201, res.body.toString());
    return res.json<{ id: string; url: string; headers: Record<string, string> }>();
  };
  const stall = (up: { url: string; headers: Record<string, string> }, size: number) => {
    const url = new URL(up.url);
    return slowClient(base, {
      method: "PUT",
      path: `${url.pathname}${url.search}`,
      headers: { ...up.headers, "Content-Length": String(size) },
      body: png(size).subarray(0, 1000),
    });
  };
  const tmpFiles = () => readdirSync(join(dataDir, "storage", "tmp")).filter((name) => name !== "multipart");

  it("exits 0 within the deadline after SIGTERM despite a stalled client, and what was confirmed is intact after restart", async () => {
    // Long request and stall timeouts: only the shutdown deadline (2 s) can end the stalled PUT.
    const limits = { STOWAGE_SHUTDOWN_TIMEOUT_SECONDS: "2", STOWAGE_STALL_TIMEOUT_SECONDS: "120", STOWAGE_REQUEST_TIMEOUT_SECONDS: "120" };
    const first = await serve(dataDir, port, limits);
    children.push(first);
    const up = await presign(PNG.length);
    assert.equal((await putPresigned(up, PNG)).status, 200);
    const confirmed = await rawRequest(`${base}/v1/uploads/${up.id}/confirm`, { method: "POST", headers: auth });
    assert.equal(confirmed.status, 200, confirmed.body.toString());

    const stalled = stall(await presign(1_900_000), 1_900_000);
    await sleep(300);
    assert.equal(tmpFiles().length, 1);
    // A keep-alive connection already open, whose request arrives during the drain.
    const late = slowClient(base, { method: "GET", path: "/v1/quota", headers: auth, headEnds: false });
    await sleep(100);
    const exit = exitOf(first);
    first.kill("SIGTERM");
    await sleep(400);
    late.send("\r\n");
    const lateAnswer = await late.outcome;
    assert.equal(lateAnswer.status, 503, lateAnswer.text);
    assert.equal(jsonOf(lateAnswer.text).error.code, "SHUTTING_DOWN");
    assert.match(lateAnswer.text, /\r\nx-request-id: \S+\r\n/i);
    assert.match(lateAnswer.text, /\r\nretry-after: \d+\r\n/i);
    assert.match(lateAnswer.text, /\r\nconnection: close\r\n/i);
    const { code, afterMs } = await Promise.race([exit, sleep(8000).then(() => ({ code: "still running after 8 s", afterMs: 8000 }))]);
    assert.equal(code, 0);
    assert.ok(afterMs >= 1800 && afterMs < 5000, `exited ${afterMs} ms after SIGTERM`);
    assert.equal((await stalled.outcome).status, undefined, "the stalled upload was cut, not answered");
    assert.deepEqual(tmpFiles(), [], "its temp file went with it");

    const second = await serve(dataDir, port);
    children.push(second);
    const status = await rawRequest(`${base}/v1/uploads/${up.id}`, { headers: auth });
    assert.equal(status.json<{ status: string }>().status, "confirmed");
    const download = await rawRequest(`${base}/v1/uploads/${up.id}/download`, { headers: auth });
    const bytes = await rawRequest(download.json<{ url: string }>().url);
    assert.equal(bytes.status, 200);
    assert.deepEqual(bytes.body, PNG, "the confirmed bytes are intact");
    const stop = exitOf(second);
    second.kill("SIGINT");
    assert.equal((await stop).code, 0, "SIGINT stops it cleanly too");
  });

  it("removes the temp files a killed process left, at start-up and with each scheduled sweep, and only those", async () => {
    const third = await serve(dataDir, port);
    children.push(third);
    const stalled = stall(await presign(1_900_000), 1_900_000);
    // The server opens the temp file once the first bytes arrive: wait for it (a loaded machine may take a while).
    for (let i = 0; i < 100 && tmpFiles().length === 0; i++) await sleep(50);
    const [left] = tmpFiles();
    assert.ok(left !== undefined, "an upload in flight");
    const killed = exitOf(third);
    third.kill("SIGKILL");
    await killed;
    await stalled.outcome;
    assert.deepEqual(tmpFiles(), [left], "kill -9 leaves the temp file behind");
    // Older than the longest URL lifetime (the built-in policies: at most an hour), and one that is not.
    const twoHoursAgo = new Date(Date.now() - 2 * 3600_000);
    utimesSync(join(dataDir, "storage", "tmp", left), twoHoursAgo, twoHoursAgo);
    writeFileSync(join(dataDir, "storage", "tmp", "recent"), "x");

    // Sweeping every second: what start-up kept because it was young goes once it is stale.
    const fourth = await serve(dataDir, port, { STOWAGE_SWEEP_INTERVAL_SECONDS: "1" });
    children.push(fourth);
    assert.deepEqual(tmpFiles(), ["recent"]);
    utimesSync(join(dataDir, "storage", "tmp", "recent"), twoHoursAgo, twoHoursAgo);
    for (let i = 0; i < 50 && tmpFiles().length > 0; i++) await sleep(100);
    assert.deepEqual(tmpFiles(), [], "the scheduled sweep removes a stale temp file");
    const stop = exitOf(fourth);
    fourth.kill("SIGTERM");
    assert.equal((await stop).code, 0);
  });
});

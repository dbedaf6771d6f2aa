import assert from "node:assert/strict";
import type { ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { spawnStowage } from "../helpers/cli.js";
import { PDF } from "../helpers/fixtures.js";
import { tempPostgres, type TestDatabase } from "../helpers/databases.js";
import { putPresigned, rawRequest } from "../helpers/http.js";
import { stowageS3Env, tempBucket } from "../helpers/s3.js";
import { freePort, JWT_SECRET } from "../helpers/server.js";
import { mintToken } from "../../src/auth/jwt.js";

/** One real `stowage serve` process on loopback; resolves once it listens. */
async function serve(env: Record<string, string>): Promise<{ url: string; process: ChildProcess }> {
  const port = await freePort();
  const child = spawnStowage(["serve"], { ...env, STOWAGE_PORT: String(port) }, ["ignore", "ignore", "pipe"]);
  let output = "";
  await new Promise<void>((resolve, reject) => {
    child.stderr?.on("data", (chunk: Buffer) => {
      output += chunk;
      if (output.includes("listening on")) resolve();
    });
    child.on("exit", (code) => reject(new Error(`serve exited ${code}: ${output}`)));
  });
  return { url: `http://127.0.0.1:${port}`, process: child };
}

/**
 * Stowage keeps nothing in process that another instance needs: three real `stowage serve`
 * processes behind an imaginary load balancer share PostgreSQL, Redis and the S3 server, and a
 * flow hops between them.
 */
describe("three stowage serve processes", () => {
  let database: TestDatabase;
  let bucket: Awaited<ReturnType<typeof tempBucket>>;
  let dataDir: string;
  let instances: { url: string; process: ChildProcess }[] = [];

  before(async () => {
    database = await tempPostgres();
    bucket = await tempBucket("stowage-multi");
    dataDir = mkdtempSync(join(tmpdir(), "stowage-multi-"));
    const env = {
      ...database.env,
      ...stowageS3Env(bucket.name),
      REDIS_URL: process.env.STOWAGE_TEST_REDIS_URL ?? "redis://127.0.0.1:6379",
      STOWAGE_DATA_DIR: dataDir,
      STOWAGE_JWT_SECRET: JWT_SECRET,
      STOWAGE_SIGNING_SECRET: "test-signing-secret-that-is-long-enough-0123",
      LOG_LEVEL: "warn",
    };
    // The first start migrates; the others find the schema current (migrations take a lock).
    instances = await Promise.all([serve(env), serve(env), serve(env)]);
  });
  after(async () => {
    for (const instance of instances) instance.process.kill("SIGTERM");
    await Promise.all(instances.map((i) => new Promise((r) => (i.process.exitCode === null ? i.process.once("exit", r) : r(null)))));
    await database.drop();
    await bucket.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("presigns on one, confirms on another, deletes on a third", async () => {
    const [one, two, three] = instances.map((i) => i.url) as [string, string, string];
    const token = await mintToken({ secret: JWT_SECRET, subject: `hopper-${randomUUID()}`, expiresInSeconds: 600 });
    const call = (base: string, method: string, path: string, body?: unknown) =>
      rawRequest(`${base}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });

    const presigned = await call(one, "POST", "/v1/uploads", { ownerType: "document", filename: "a.pdf", contentType: "application/pdf", size: PDF.length });
    assert.equal(presigned.status, 201, presigned.body.toString());
    assert.equal((await putPresigned(presigned.json(), PDF)).status, 200);

    const confirmed = await call(two, "POST", `/v1/uploads/${presigned.json().id}/confirm`);
    assert.equal(confirmed.status, 200, confirmed.body.toString());
    const again = await call(three, "POST", `/v1/uploads/${presigned.json().id}/confirm`);
    assert.deepEqual(again.json(), confirmed.json(), "the same answer from any instance (shared URL cache)");
    assert.equal((await call(one, "GET", "/v1/quota")).json().usedBytes, PDF.length);

    assert.equal((await call(three, "DELETE", `/v1/uploads/${presigned.json().id}`)).status, 204);
    assert.equal((await call(two, "GET", "/v1/quota")).json().usedBytes, 0);
    assert.equal((await call(one, "GET", `/v1/uploads/${presigned.json().id}`)).json().status, "deleted");
    for (const url of [one, two, three]) assert.equal((await rawRequest(`${url}/readyz`)).status, 200);
  });
});

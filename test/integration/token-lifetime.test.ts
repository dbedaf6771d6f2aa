import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { SignJWT } from "jose";
import { runStowage } from "../helpers/cli.js";
import { JWT_SECRET, startStowage, type TestServer } from "../helpers/server.js";

const key = new TextEncoder().encode(JWT_SECRET);
const now = () => Math.floor(Date.now() / 1000);
const HOUR = 3600;

/** An HS256 token for `alice` with exactly these time claims (none set unless given). */
function token(times: { iat?: number; exp?: number }): Promise<string> {
  return new SignJWT({ sub: "alice", ...times }).setProtectedHeader({ alg: "HS256" }).sign(key);
}

describe("token lifetimes over HTTP", () => {
  let server: TestServer;
  let strict: TestServer;
  before(async () => {
    server = await startStowage();
    strict = await startStowage({ STOWAGE_JWT_MAX_TTL_SECONDS: "600" });
  });
  after(async () => {
    await server.close();
    await strict.close();
  });

  const quota = (on: TestServer, bearer: string) => on.api("GET", "/v1/quota", { token: bearer });
  const refused = async (on: TestServer, bearer: string, message: RegExp, what: string) => {
    const res = await quota(on, bearer);
    assert.equal(res.status, 401, `${what}: ${res.body}`);
    assert.equal(res.json().error.code, "UNAUTHENTICATED", what);
    assert.match(res.json().error.message, message, what);
  };

  it("refuses a token without exp, and one living longer than the default 24 h", async () => {
    await refused(server, await token({ iat: now() }), /no expiry \(exp claim\)/, "no exp");
    await refused(server, await token({}), /no expiry/, "no time claims at all");
    await refused(server, await token({ iat: now(), exp: now() + 25 * HOUR }), /lives too long.*86400 s/, "25 h");
    await refused(server, await token({ exp: now() + 30 * 24 * HOUR }), /lives too long/, "30 days, no iat");
    await refused(server, await token({ iat: now() - 47 * HOUR, exp: now() + HOUR }), /lives too long/, "48 h, one left");
    await refused(server, await token({ iat: now() - 120, exp: now() - 60 }), /has expired/, "expired");
    assert.equal((await quota(server, await token({ iat: now(), exp: now() + 24 * HOUR }))).status, 200, "24 h is fine");
  });

  it("takes the maximum from STOWAGE_JWT_MAX_TTL_SECONDS", async () => {
    await refused(strict, await token({ iat: now(), exp: now() + 900 }), /within 600 s/, "15 min against 10");
    assert.equal((await quota(strict, await token({ iat: now(), exp: now() + 600 }))).status, 200);
  });
});

describe("stowage token --ttl", () => {
  let dataDir: string;
  let env: Record<string, string>;
  before(() => {
    dataDir = mkdtempSync(join(tmpdir(), "stowage-token-"));
    env = { STOWAGE_DATA_DIR: dataDir, STOWAGE_JWT_SECRET: "token-lifetime-test-secret-0123456789abcdef", LOG_LEVEL: "warn" };
  });
  after(() => rmSync(dataDir, { recursive: true, force: true }));

  const payloadOf = (jwt: string) => JSON.parse(Buffer.from(jwt.trim().split(".")[1] ?? "", "base64url").toString()) as { iat: number; exp: number };

  it("mints up to the maximum and refuses beyond it with a clear error", async () => {
    const day = await runStowage(["token", "--user", "alice", "--ttl", "86400"], env);
    assert.equal(day.code, 0, day.stderr);
    const { iat, exp } = payloadOf(day.stdout);
    assert.equal(exp - iat, 86400);

    const long = await runStowage(["token", "--user", "alice", "--ttl", "86401"], env);
    assert.equal(long.code, 1);
    assert.equal(long.stdout, "", "no token printed");
    assert.match(long.stderr, /--ttl 86401 is longer than the 86400 s this instance accepts \(STOWAGE_JWT_MAX_TTL_SECONDS\)/);
    assert.doesNotMatch(long.stderr, /at .*\.ts:\d+/, "no stack trace");

    const raised = await runStowage(["token", "--user", "alice", "--ttl", "172800"], { ...env, STOWAGE_JWT_MAX_TTL_SECONDS: "172800" });
    assert.equal(raised.code, 0, raised.stderr);
  });

  it("names a bad STOWAGE_JWT_MAX_TTL_SECONDS", async () => {
    for (const value of ["0", "-1", "1.5", "forever", String(366 * 86400)]) {
      const res = await runStowage(["token", "--user", "alice"], { ...env, STOWAGE_JWT_MAX_TTL_SECONDS: value });
      assert.equal(res.code, 1, value);
      assert.match(res.stderr, /STOWAGE_JWT_MAX_TTL_SECONDS must be a whole number from 1 to 31536000/, value);
    }
  });
});

import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { after, describe, it } from "node:test";
import { exportJWK, generateKeyPair, type JWTPayload, SignJWT } from "jose";
import { checkLifetime, createVerifier, mintToken } from "./jwt.js";

const SECRET = "a-test-secret-that-is-long-enough-0123456789";

function b64(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString("base64url");
}

const now = () => Math.floor(Date.now() / 1000);
const HOUR = 3600;

/** Rejects with 401 UNAUTHENTICATED and a message matching `message`. */
async function refused(verdict: Promise<unknown>, message: RegExp, what: string): Promise<void> {
  await assert.rejects(verdict, (error: { code?: string; message?: string }) => {
    assert.equal(error.code, "UNAUTHENTICATED", what);
    assert.match(error.message ?? "", message, what);
    return true;
  });
}

describe("checkLifetime", () => {
  const t = 1_800_000_000;
  const lives = (payload: JWTPayload, max = 24 * HOUR) => () => checkLifetime(payload, max, t);

  it("accepts a token that expires within the maximum, with or without iat", () => {
    assert.doesNotThrow(lives({ exp: t + 24 * HOUR, iat: t }));
    assert.doesNotThrow(lives({ exp: t + 60 }));
    assert.doesNotThrow(lives({ exp: t + 24 * HOUR + 5 }), "within the clock tolerance");
  });

  it("refuses no exp, a non-numeric exp, an exp too far ahead, and an exp − iat too long", () => {
    for (const payload of [{}, { exp: "9999999999" }, { iat: t }] as JWTPayload[]) {
      assert.throws(lives(payload), { code: "UNAUTHENTICATED", message: /no expiry \(exp claim\)/ }, JSON.stringify(payload));
    }
    for (const payload of [{ exp: t + 25 * HOUR }, { exp: t + 25 * HOUR, iat: t + 2 * HOUR }, { exp: t + HOUR, iat: t - 48 * HOUR }]) {
      assert.throws(lives(payload), { code: "UNAUTHENTICATED", message: /lives too long.*86400 s/ }, JSON.stringify(payload));
    }
    assert.throws(lives({ exp: t + 120, iat: t }, 60), { message: /within 60 s/ });
  });
});

describe("createVerifier with a shared secret", () => {
  const verify = createVerifier({ kind: "secret", secret: SECRET, issuer: "https://app.test", audience: "stowage" });

  it("accepts a good token, again from its cache, and reads subject, roles and org", async () => {
    const token = await mintToken({ secret: SECRET, subject: "alice", roles: ["admin"], org: "acme", issuer: "https://app.test", audience: "stowage", expiresInSeconds: 60 });
    const first = await verify(token);
    assert.deepEqual(first, { kind: "user", userId: "alice", roles: ["admin"], orgId: "acme" });
    assert.deepEqual(await verify(token), first);
  });

  it("refuses a tampered payload under a signature it has verified and cached before", async () => {
    const token = await mintToken({ secret: SECRET, subject: "alice", issuer: "https://app.test", audience: "stowage", expiresInSeconds: 60 });
    await verify(token);
    const [header, , signature] = token.split(".");
    const forged = `${header}.${b64({ sub: "mallory", iss: "https://app.test", aud: "stowage", exp: Math.floor(Date.now() / 1000) + 60 })}.${signature}`;
    await assert.rejects(verify(forged), { code: "UNAUTHENTICATED" });
  });

  it("refuses another secret, another or no issuer or audience, an expired token and alg none", async () => {
    const exp = Math.floor(Date.now() / 1000) + 60;
    const tokens = [
      await mintToken({ secret: SECRET, subject: "alice", audience: "stowage", expiresInSeconds: 60 }),
      await mintToken({ secret: SECRET, subject: "alice", issuer: "https://app.test", expiresInSeconds: 60 }),
      await mintToken({ secret: SECRET, subject: "alice", issuer: "https://app.test", audience: "other", expiresInSeconds: 60 }),
      await mintToken({ secret: `${SECRET}-other`, subject: "alice", issuer: "https://app.test", audience: "stowage", expiresInSeconds: 60 }),
      await mintToken({ secret: SECRET, subject: "alice", issuer: "https://evil.test", audience: "stowage", expiresInSeconds: 60 }),
      await mintToken({ secret: SECRET, subject: "alice", issuer: "https://app.test", audience: "stowage", expiresInSeconds: -60 }),
      `${b64({ alg: "none", typ: "JWT" })}.${b64({ sub: "alice", iss: "https://app.test", aud: "stowage", exp })}.`,
    ];
    for (const token of tokens) await assert.rejects(verify(token), { code: "UNAUTHENTICATED" });
  });

  it("says an expired token has expired", async () => {
    const token = await mintToken({ secret: SECRET, subject: "alice", issuer: "https://app.test", audience: "stowage", expiresInSeconds: -60 });
    await refused(verify(token), /has expired/, "expired");
  });

  it("refuses a token without exp and one that lives longer than 24 h, also once cached", async () => {
    const sign = (claims: Record<string, unknown>) => {
      const jwt = new SignJWT({ iss: "https://app.test", aud: "stowage", sub: "alice", ...claims }).setProtectedHeader({ alg: "HS256" });
      return jwt.sign(new TextEncoder().encode(SECRET));
    };
    const forever = await sign({ iat: now() });
    await refused(verify(forever), /no expiry/, "no exp");
    await refused(verify(forever), /no expiry/, "no exp, again (fast-jwt's cache)");
    await refused(verify(await sign({ iat: now(), exp: now() + 25 * HOUR })), /lives too long/, "25 h");
    await refused(verify(await sign({ exp: now() + 25 * HOUR })), /lives too long/, "25 h without iat");
    await refused(verify(await sign({ iat: now() - 47 * HOUR, exp: now() + HOUR })), /lives too long/, "48 h, one left");
    assert.equal((await verify(await sign({ iat: now(), exp: now() + 24 * HOUR }))).userId, "alice", "24 h is fine");
  });

  it("takes its maximum from the config", async () => {
    const strict = createVerifier({ kind: "secret", secret: SECRET, maxTtlSeconds: 60 });
    await refused(strict(await mintToken({ secret: SECRET, subject: "alice", expiresInSeconds: 120 })), /within 60 s/, "120 s");
    assert.equal((await strict(await mintToken({ secret: SECRET, subject: "alice", expiresInSeconds: 60 }))).userId, "alice");
  });
});

describe("createVerifier with a JWKS URL", async () => {
  const { publicKey, privateKey } = await generateKeyPair("RS256");
  const jwk = { ...(await exportJWK(publicKey)), kid: "k1", alg: "RS256" };
  const server = createServer((_, res) => res.setHeader("content-type", "application/json").end(JSON.stringify({ keys: [jwk] })));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  after(() => server.close());
  const verify = createVerifier({ kind: "jwks", jwksUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json` });

  it("accepts a token signed by a key of the set", async () => {
    const token = await new SignJWT({ roles: "editor" }).setProtectedHeader({ alg: "RS256", kid: "k1" }).setSubject("bob").setExpirationTime("1m").sign(privateKey);
    assert.deepEqual(await verify(token), { kind: "user", userId: "bob", roles: ["editor"], orgId: undefined });
  });

  it("refuses a token without exp, one that lives too long, and an expired one, saying which", async () => {
    const rs = (payload: JWTPayload) => new SignJWT(payload).setProtectedHeader({ alg: "RS256", kid: "k1" }).setSubject("bob").sign(privateKey);
    await refused(verify(await rs({ iat: now() })), /no expiry/, "no exp");
    await refused(verify(await rs({ iat: now(), exp: now() + 25 * HOUR })), /lives too long/, "25 h");
    await refused(verify(await rs({ iat: now() - 47 * HOUR, exp: now() + HOUR })), /lives too long/, "48 h, one left");
    await refused(verify(await rs({ iat: now() - 120, exp: now() - 60 })), /has expired/, "expired");
  });

  it("refuses an HS256 token, whatever its secret (no HS/RS confusion)", async () => {
    const token = await new SignJWT({}).setProtectedHeader({ alg: "HS256", kid: "k1" }).setSubject("bob").setExpirationTime("1m")
      .sign(new TextEncoder().encode(JSON.stringify(jwk)));
    await assert.rejects(verify(token), { code: "UNAUTHENTICATED" });
  });
});

import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { after, describe, it } from "node:test";
import { exportJWK, generateKeyPair, SignJWT } from "jose";
import { createVerifier, mintToken } from "./jwt.js";

const SECRET = "a-test-secret-that-is-long-enough-0123456789";

function b64(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString("base64url");
}

describe("createVerifier with a shared secret", () => {
  const verify = createVerifier({ kind: "secret", secret: SECRET, issuer: "https://app.test", audience: "stowage" });

  it("accepts a good token, again from its cache, and reads subject, roles and org", async () => {
    const token = await mintToken({ secret: SECRET, subject: "alice", roles: ["admin"], org: "acme", issuer: "https://app.test", audience: "stowage", expiresInSeconds: 60 });
    const first = await verify(token);
    assert.deepEqual(first, { userId: "alice", roles: ["admin"], orgId: "acme" });
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
    assert.deepEqual(await verify(token), { userId: "bob", roles: ["editor"], orgId: undefined });
  });

  it("refuses an HS256 token, whatever its secret (no HS/RS confusion)", async () => {
    const token = await new SignJWT({}).setProtectedHeader({ alg: "HS256", kid: "k1" }).setSubject("bob").setExpirationTime("1m")
      .sign(new TextEncoder().encode(JSON.stringify(jwk)));
    await assert.rejects(verify(token), { code: "UNAUTHENTICATED" });
  });
});

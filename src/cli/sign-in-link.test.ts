import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createVerifier } from "../auth/jwt.js";
import { SIGN_IN_LINK_TTL_SECONDS, signInLink } from "./sign-in-link.js";

const jwt = { kind: "secret" as const, secret: "s".repeat(32), issuer: "https://id.example.com", audience: "media" };
const local = { baseUrl: "http://127.0.0.1:8080", jwt, jwtSecretFile: "/data/jwt-secret" };

describe("signInLink", () => {
  it("with a generated secret: the page's address with a token for alice in the fragment only", async () => {
    const link = await signInLink(local);
    const url = new URL(link.url);
    assert.equal(`${url.origin}${url.pathname}`, "http://127.0.0.1:8080/");
    assert.equal(url.search, "", "no query string");
    const token = /^#token=([\w-]+\.[\w-]+\.[\w-]+)$/.exec(url.hash)?.[1];
    assert.ok(token !== undefined, url.hash);
    const caller = await createVerifier(jwt)(token);
    assert.equal(caller.userId, "alice");
    assert.deepEqual([link.user, link.ttlSeconds], ["alice", SIGN_IN_LINK_TTL_SECONDS]);
    const { exp, iat } = JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString()) as { exp: number; iat: number };
    assert.equal(exp - iat, SIGN_IN_LINK_TTL_SECONDS);
  });

  it("never outlives what the instance accepts", async () => {
    const link = await signInLink({ ...local, jwt: { ...jwt, maxTtlSeconds: 600 } });
    assert.equal(link.ttlSeconds, 600);
  });

  it("carries no token when the secret came from the environment (production) or keys from a JWKS", async () => {
    const jwks = { kind: "jwks" as const, jwksUrl: "https://id.example.com/jwks" };
    for (const config of [{ ...local, jwtSecretFile: undefined }, { ...local, jwt: jwks }]) {
      assert.deepEqual(await signInLink(config), { url: "http://127.0.0.1:8080/", user: undefined, ttlSeconds: undefined });
    }
  });
});

import assert from "node:assert/strict";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { SignJWT } from "jose";
import { PDF } from "../helpers/fixtures.js";
import { confirm, presign, presignAndPut } from "../helpers/flow.js";
import { putPresigned } from "../helpers/http.js";
import { JWT_SECRET, startStowage, type TestServer } from "../helpers/server.js";

const key = new TextEncoder().encode(JWT_SECRET);
const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString("base64url");

describe("authentication and isolation", () => {
  let server: TestServer;
  before(async () => {
    const dir = mkdtempSync(join(tmpdir(), "stowage-auth-"));
    const configFile = join(dir, "stowage.config.json");
    writeFileSync(
      configFile,
      JSON.stringify({
        policies: {
          admin_report: {
            allowedTypes: ["application/pdf"],
            maxBytes: 1000,
            urlTtlSeconds: 60,
            keyTemplate: "reports/{id}.{ext}",
            bucket: "private",
            visibility: "private",
            allowedRoles: ["admin"],
          },
        },
      }),
    );
    server = await startStowage({
      STOWAGE_CONFIG_FILE: configFile,
      STOWAGE_JWT_ISSUER: "https://issuer.test",
      STOWAGE_JWT_AUDIENCE: "stowage",
    });
  });
  after(async () => server.close());

  const sign = (
    claims: Record<string, unknown>,
    options: { secret?: Uint8Array; exp?: number } = {},
  ) =>
    new SignJWT(claims)
      .setProtectedHeader({ alg: "HS256" })
      .setIssuedAt()
      .setExpirationTime(options.exp ?? Math.floor(Date.now() / 1000) + 300)
      .sign(options.secret ?? key);
  const good = { sub: "alice", iss: "https://issuer.test", aud: "stowage" };
  const quota = (token: string | undefined, headers: Record<string, string> = {}) =>
    server.api("GET", "/v1/quota", { ...(token === undefined ? {} : { token }), headers });

  it("accepts a valid token", async () => {
    assert.equal((await quota(await sign(good))).status, 200);
  });

  it("refuses missing, malformed, unsigned, forged, expired and mis-addressed tokens with 401", async () => {
    const none = `${b64({ alg: "none", typ: "JWT" })}.${b64({ ...good, exp: Math.floor(Date.now() / 1000) + 300 })}.`;
    const cases: [string, Promise<Record<string, string>> | Record<string, string>][] = [
      ["no header", {}],
      ["not bearer", { authorization: "Basic YWxpY2U6cHc=" }],
      ["garbage", { authorization: "Bearer not.a.jwt" }],
      ["alg none", { authorization: `Bearer ${none}` }],
      [
        "wrong key",
        sign(good, {
          secret: new TextEncoder().encode("another-secret-another-secret-another"),
        }).then((t) => ({ authorization: `Bearer ${t}` })),
      ],
      [
        "expired",
        sign(good, { exp: Math.floor(Date.now() / 1000) - 60 }).then((t) => ({
          authorization: `Bearer ${t}`,
        })),
      ],
      [
        "no subject",
        sign({ iss: good.iss, aud: good.aud }).then((t) => ({ authorization: `Bearer ${t}` })),
      ],
      [
        "wrong issuer",
        sign({ ...good, iss: "https://evil.test" }).then((t) => ({ authorization: `Bearer ${t}` })),
      ],
      [
        "wrong audience",
        sign({ ...good, aud: "other" }).then((t) => ({ authorization: `Bearer ${t}` })),
      ],
    ];
    for (const [what, headers] of cases) {
      const res = await quota(undefined, await headers);
      assert.equal(res.status, 401, what);
      assert.equal(res.json().error.code, "UNAUTHENTICATED", what);
    }
  });

  it("lets only the allowed roles use a restricted owner type", async () => {
    const body = {
      ownerType: "admin_report",
      filename: "r.pdf",
      contentType: "application/pdf",
      size: 10,
    };
    const user = await server.api("POST", "/v1/uploads", { token: await sign(good), body });
    assert.equal(user.status, 403);
    assert.equal(user.json().error.code, "FORBIDDEN");
    const admin = await server.api("POST", "/v1/uploads", {
      token: await sign({ ...good, roles: ["admin"] }),
      body,
    });
    assert.equal(admin.status, 201);
  });

  it("never shows, confirms, downloads or deletes another user's upload (404)", async () => {
    const alice = await sign(good);
    const mallory = await sign({ ...good, sub: "mallory" });
    const up = await server.api("POST", "/v1/uploads", {
      token: alice,
      body: {
        ownerType: "document",
        filename: "a.pdf",
        contentType: "application/pdf",
        size: PDF.length,
      },
    });
    const { id } = up.json();
    await putPresigned(up.json(), PDF);

    for (const [method, path] of [
      ["GET", `/v1/uploads/${id}`],
      ["POST", `/v1/uploads/${id}/confirm`],
      ["GET", `/v1/uploads/${id}/download`],
      ["DELETE", `/v1/uploads/${id}`],
    ] as const) {
      const res = await server.api(method, path, { token: mallory });
      assert.equal(res.status, 404, `${method} ${path}`);
      assert.equal(res.json().error.code, "NOT_FOUND");
    }
    assert.equal(
      (await server.api("GET", "/v1/uploads", { token: mallory })).json().items.length,
      0,
    );
    assert.equal(
      (await server.api("GET", `/v1/uploads/${id}`, { token: alice })).json().status,
      "pending",
      "untouched",
    );
    assert.ok(
      existsSync(join(server.dataDir, "storage", "objects", "private", "staging", id)),
      "object still there",
    );
    assert.equal(
      (await server.api("POST", `/v1/uploads/${id}/confirm`, { token: alice })).status,
      200,
    );
  });
});

describe("another server's tokens", () => {
  let server: TestServer;
  before(async () => {
    server = await startStowage();
  });
  after(async () => server.close());

  it("an upload made through one user's token is not reachable with a token for a user of the same name from another secret", async () => {
    const up = await presignAndPut(server, "zoe", PDF, { contentType: "application/pdf" });
    const forged = await server.token("zoe", {
      secret: "a-different-secret-a-different-secret-!!",
    });
    const res = await server.api("POST", `/v1/uploads/${up.id}/confirm`, { token: forged });
    assert.equal(res.status, 401);
    assert.equal((await confirm(server, "zoe", up.id)).status, 200);
    assert.equal(
      (await presign(server, "zoe", { contentType: "application/pdf", size: 1 })).status,
      201,
    );
  });
});

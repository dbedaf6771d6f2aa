import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { rawRequest } from "../helpers/http.js";
import { startStowage, type TestServer } from "../helpers/server.js";

describe("CORS for browser apps on the embedded default", () => {
  let server: TestServer;
  before(async () => {
    server = await startStowage({ STOWAGE_CORS_ORIGINS: "https://app.example.com, http://localhost:5173" });
  });
  after(async () => server.close());

  const preflight = (path: string, origin: string, method: string, headers: string) =>
    rawRequest(`${server.baseUrl}${path}`, {
      method: "OPTIONS",
      headers: { origin, "access-control-request-method": method, "access-control-request-headers": headers },
    });

  it("answers preflights for uploads to the local object endpoint from configured origins", async () => {
    const res = await preflight("/storage/private/documents/u/x.pdf", "https://app.example.com", "PUT", "content-type,cache-control,content-md5");
    assert.equal(res.status, 204);
    assert.equal(res.headers["access-control-allow-origin"], "https://app.example.com");
    assert.match(String(res.headers["access-control-allow-methods"]), /PUT/);
    // Every header a presigned PUT may be told to send, Content-MD5 (signed from contentMd5) included.
    const allowed = String(res.headers["access-control-allow-headers"]).split(",").map((h) => h.trim());
    for (const header of ["content-type", "cache-control", "if-none-match", "content-md5"]) assert.ok(allowed.includes(header), `${header}: ${allowed}`);
  });

  it("answers preflights for the API, and exposes ETag for multipart completion", async () => {
    const res = await preflight("/v1/uploads", "http://localhost:5173", "POST", "authorization,content-type");
    assert.equal(res.headers["access-control-allow-origin"], "http://localhost:5173");
    const get = await rawRequest(`${server.baseUrl}/healthz`, { headers: { origin: "http://localhost:5173" } });
    assert.match(String(get.headers["access-control-expose-headers"]), /ETag/);
  });

  it("gives other origins nothing", async () => {
    const res = await preflight("/v1/uploads", "https://evil.example.net", "POST", "authorization");
    assert.equal(res.headers["access-control-allow-origin"], undefined);
  });
});

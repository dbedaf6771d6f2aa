import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { connect } from "node:net";
import { after, before, describe, it } from "node:test";
import { PNG } from "../helpers/fixtures.js";
import { presign } from "../helpers/flow.js";
import { type RawResponse, rawRequest } from "../helpers/http.js";
import { startStowage, type TestServer } from "../helpers/server.js";

const SOME_ID = "0190a6b2-7c3d-7e4f-8a5b-6c7d8e9f0a1b";

/** Asserts the one error shape, exactly: `{ error: { code, message, details? } }` and nothing else. */
function assertError(res: RawResponse, status: number, code: string, field?: string): void {
  const text = res.body.toString();
  assert.equal(res.status, status, text);
  assert.match(String(res.headers["content-type"]), /^application\/json/, text);
  const body = res.json<{ error: { code: string; message: string; details?: { field?: string } } }>();
  assert.deepEqual(Object.keys(body), ["error"], text);
  assert.deepEqual(Object.keys(body.error).filter((k) => !["code", "message", "details"].includes(k)), [], text);
  assert.equal(body.error.code, code, text);
  assert.ok(typeof body.error.message === "string" && body.error.message.length > 0, text);
  assert.ok(!body.error.message.includes("FST_"), `no Fastify internals: ${text}`);
  if (field !== undefined) assert.equal(body.error.details?.field, field, text);
}

/** Sends raw bytes on a socket and parses the answer (for requests Node's parser refuses). */
function rawHttp(baseUrl: string, request: string): Promise<RawResponse> {
  const { hostname, port } = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    const chunks: Buffer[] = [];
    socket.on("data", (c: Buffer) => chunks.push(c));
    socket.on("error", reject);
    socket.on("close", () => {
      const text = Buffer.concat(chunks).toString("utf8");
      const [head = "", body = ""] = text.split("\r\n\r\n");
      const [statusLine = "", ...lines] = head.split("\r\n");
      const headers = Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf(":")).toLowerCase(), l.slice(l.indexOf(":") + 1).trim()]));
      resolve({ status: Number(statusLine.split(" ")[1]), headers, body: Buffer.from(body), json: () => JSON.parse(body) });
    });
    socket.end(request);
  });
}

describe("request validation and framework errors (SQLite + local disk)", () => {
  let server: TestServer;
  let auth: Record<string, string>;
  before(async () => {
    server = await startStowage();
    auth = { authorization: `Bearer ${await server.token("val")}` };
  });
  after(async () => server.close());

  const post = (path: string, body: unknown) => server.api("POST", path, { as: "val", body });
  const good = { ownerType: "avatar", filename: "me.png", contentType: "image/png", size: PNG.length };

  describe("JSON bodies keep their types: nothing is coerced", () => {
    it("POST /v1/uploads refuses the issue's examples, naming the field, and records nothing", async () => {
      const cases: [Record<string, unknown>, string][] = [
        [{ ...good, size: true }, "body.size"],
        [{ ...good, size: "5" }, "body.size"],
        [{ ...good, size: [1] }, "body.size"],
        [{ ...good, size: 1.5 }, "body.size"],
        [{ ...good, ownerType: ["avatar"] }, "body.ownerType"],
        [{ ...good, filename: 5 }, "body.filename"],
        [{ ...good, contentType: null }, "body.contentType"],
        [{ ...good, method: ["PUT"] }, "body.method"],
      ];
      for (const [body, field] of cases) assertError(await post("/v1/uploads", body), 400, "INVALID_REQUEST", field);
      assert.equal((await post("/v1/uploads", good)).status, 201, "the well-typed request passes");
      assert.equal((await server.api("GET", "/v1/uploads", { as: "val" })).json().items.length, 1, "only that one recorded");
    });

    it("attach, sign-parts and complete refuse wrong types too", async () => {
      const cases: [string, unknown, string][] = [
        ["/v1/uploads/attach", { uploadIds: SOME_ID, parent: { type: "message", id: "m-1" } }, "body.uploadIds"],
        ["/v1/uploads/attach", { uploadIds: [SOME_ID], parent: { type: "message", id: 1 } }, "body.parent.id"],
        ["/v1/uploads/attach", { uploadIds: [SOME_ID], parent: [{ type: "message", id: "m-1" }] }, "body.parent"],
        [`/v1/uploads/${SOME_ID}/parts`, { partNumbers: ["1"] }, "body.partNumbers.0"],
        [`/v1/uploads/${SOME_ID}/parts`, { partNumbers: 1 }, "body.partNumbers"],
        [`/v1/uploads/${SOME_ID}/parts`, { partNumbers: [true] }, "body.partNumbers.0"],
        [`/v1/uploads/${SOME_ID}/complete`, { parts: [{ partNumber: "1", etag: "e" }] }, "body.parts.0.partNumber"],
        [`/v1/uploads/${SOME_ID}/complete`, { parts: [{ partNumber: 1, etag: 5 }] }, "body.parts.0.etag"],
        [`/v1/uploads/${SOME_ID}/complete`, { parts: { partNumber: 1, etag: "e" } }, "body.parts"],
      ];
      for (const [path, body, field] of cases) assertError(await post(path, body), 400, "INVALID_REQUEST", field);
    });

    it("query strings still coerce: ?limit=5 is the number 5", async () => {
      for (let i = 0; i < 6; i++) assert.equal((await presign(server, "lister", { contentType: "application/pdf", size: 10 + i })).status, 201);
      const page = await server.api("GET", "/v1/uploads?limit=5", { as: "lister" });
      assert.equal(page.status, 200, page.body.toString());
      assert.equal(page.json().items.length, 5);
      assert.equal(typeof page.json().nextCursor, "string");
      assertError(await server.api("GET", "/v1/uploads?limit=five", { as: "lister" }), 400, "INVALID_REQUEST", "querystring.limit");
    });

    it("the service itself refuses a size that is not a positive safe integer, and signs nothing", async () => {
      const caller = { kind: "user" as const, userId: "direct", roles: [] };
      for (const size of [-5, 0, 1.5, Number.NaN, 2 ** 53]) {
        const refused = server.runtime.service.presign(caller, { ...good, size });
        await assert.rejects(refused, (error: { code?: string; details?: { field?: string } }) => {
          assert.equal(error.code, "INVALID_REQUEST", String(size));
          assert.equal(error.details?.field, "size", String(size));
          return true;
        });
      }
      const unknownMethod = { ...good, method: "PATCH" } as unknown as Parameters<typeof server.runtime.service.presign>[1];
      await assert.rejects(server.runtime.service.presign(caller, unknownMethod), { code: "INVALID_REQUEST", details: { field: "method" } });
      assert.equal((await server.runtime.service.list(caller, { limit: 10 })).items.length, 0, "nothing recorded");
    });
  });

  describe("framework errors answer in the one error shape", () => {
    it("an over-long path segment: 414 URI_TOO_LONG, with the request id", async () => {
      const res = await rawRequest(`${server.baseUrl}/v1/uploads/${"a".repeat(101)}`, { headers: auth });
      assertError(res, 414, "URI_TOO_LONG");
      assert.ok(res.headers["x-request-id"], "X-Request-Id set");
      assert.ok(!res.body.toString().includes("a".repeat(101)), "the URL is not echoed");
    });

    it("a malformed percent-encoding: 400 INVALID_REQUEST naming the url", async () => {
      for (const path of ["/v1/uploads/%E0%A4%A", "/v1/uploads/%zz", "/storage/public/%zz"]) {
        const res = await rawRequest(`${server.baseUrl}${path}`, { headers: auth });
        assertError(res, 400, "INVALID_REQUEST", "url");
        assert.ok(res.headers["x-request-id"], "X-Request-Id set");
      }
    });

    it("a body that is not JSON: 415 UNSUPPORTED_MEDIA_TYPE", async () => {
      for (const headers of [{ "content-type": "text/plain" }, { "content-type": "text/html" }, { "content-type": "application/x-www-form-urlencoded" }, {}]) {
        const res = await rawRequest(`${server.baseUrl}/v1/uploads`, { method: "POST", headers: { ...auth, ...headers }, body: JSON.stringify(good) });
        assertError(res, 415, "UNSUPPORTED_MEDIA_TYPE");
      }
    });

    it("invalid JSON, prototype poisoning and an empty JSON body: 400 INVALID_REQUEST naming the body", async () => {
      for (const body of ["{oops", "{\"__proto__\":{\"admin\":true}}", ""]) {
        const res = await rawRequest(`${server.baseUrl}/v1/uploads`, { method: "POST", headers: { ...auth, "content-type": "application/json" }, body });
        assertError(res, 400, "INVALID_REQUEST", "body");
      }
    });

    it("a body over the limit: 413 BODY_TOO_LARGE", async () => {
      const res = await rawRequest(`${server.baseUrl}/v1/uploads`, {
        method: "POST",
        headers: { ...auth, "content-type": "application/json" },
        body: JSON.stringify({ ...good, filename: "x".repeat(70_000) }),
      });
      assertError(res, 413, "BODY_TOO_LARGE");
    });

    it("an unknown route or method: 404 NOT_FOUND", async () => {
      assertError(await rawRequest(`${server.baseUrl}/nope`), 404, "NOT_FOUND");
      assertError(await rawRequest(`${server.baseUrl}/v1/uploads`, { method: "PATCH", headers: auth }), 404, "NOT_FOUND");
    });

    it("a body length Node's parser refuses: 400 INVALID_REQUEST naming the header", async () => {
      const head = "POST /v1/uploads HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n";
      for (const [request, field] of [
        [`${head}Content-Length: abc\r\n\r\n{}`, "headers.content-length"],
        [`${head}Content-Length: 2\r\nContent-Length: 3\r\n\r\n{}`, "headers.content-length"],
        [`${head}Content-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n`, "headers.transfer-encoding"],
      ] as const) {
        assertError(await rawHttp(server.baseUrl, request), 400, "INVALID_REQUEST", field);
      }
    });

    it("headers over Node's limit: 431 HEADERS_TOO_LARGE; garbage: 400 INVALID_REQUEST", async () => {
      const big = `GET /v1/quota HTTP/1.1\r\nHost: x\r\nX-Big: ${"b".repeat(20_000)}\r\n\r\n`;
      assertError(await rawHttp(server.baseUrl, big), 431, "HEADERS_TOO_LARGE");
      assertError(await rawHttp(server.baseUrl, "HELLO\r\n\r\n"), 400, "INVALID_REQUEST");
    });
  });

  describe("the local /storage route and long keys", () => {
    it("takes S3-length keys (1024 characters) and refuses longer ones in the error shape", async () => {
      const key = `${Array.from({ length: 5 }, (_, i) => String(i).repeat(200)).join("/")}/${"k".repeat(19)}`;
      assert.equal(key.length, 1024);
      const bytes = randomBytes(64);
      const put = await server.runtime.driver.presignPut({ bucket: "private", key, contentType: "application/octet-stream", contentLength: bytes.length, cacheControl: "private", expiresInSeconds: 60 });
      const stored = await rawRequest(put.url, { method: "PUT", headers: put.headers ?? {}, body: bytes });
      assert.equal(stored.status, 200, stored.body.toString());
      const get = await server.runtime.driver.presignGet({ bucket: "private", key, expiresInSeconds: 60 });
      const served = await rawRequest(get.url);
      assert.equal(served.status, 200);
      assert.deepEqual(served.body, bytes);

      assertError(await rawRequest(`${server.baseUrl}/storage/private/${key}x`), 400, "INVALID_REQUEST", "params.*");
      assertError(await rawRequest(`${server.baseUrl}/storage/${"b".repeat(101)}/x`), 414, "URI_TOO_LONG");
    });
  });
});

import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Validator } from "@seriousme/openapi-schema-validator";
import { operations } from "../../src/api/operations.js";
import { ERROR_STATUS } from "../../src/errors.js";
import { PNG, png, PDF } from "../helpers/fixtures.js";
import { type RawResponse, rawRequest } from "../helpers/http.js";
import { contractProblems, type Exchange, type OpenApiDocument } from "../helpers/openapi.js";
import { startStowage, type TestServer } from "../helpers/server.js";

describe("the OpenAPI document", () => {
  let server: TestServer;
  let doc: OpenApiDocument;
  before(async () => {
    server = await startStowage();
    const answer = await server.api("GET", "/openapi.json");
    assert.equal(answer.status, 200);
    doc = answer.json();
  });
  after(async () => server.close());

  it("is a valid OpenAPI 3.1 document", async () => {
    const validator = new Validator();
    const result = await validator.validate(doc as unknown as Parameters<Validator["validate"]>[0]);
    assert.equal(validator.version, "3.1");
    assert.equal(result.valid, true, JSON.stringify(result.errors, null, 2));
  });

  it("documents every operation of the contract, with its id, tag, security and error codes", () => {
    const documented = Object.entries(doc.paths).flatMap(([path, methods]) =>
      Object.entries(methods).map(([method, op]) => `${method.toUpperCase()} ${path} ${op.operationId}`),
    );
    const expected = Object.values(operations).map(
      (op) => `${op.method} ${op.path.replace(/:(\w+)/g, "{$1}").replace(/\*$/, "{key}")} ${op.operationId}`,
    );
    assert.deepEqual([...documented].sort(), [...expected].sort());
    const create = doc.paths["/v1/uploads"]?.post as unknown as Record<string, unknown> & OpenApiDocument["paths"][string][string];
    // Presign takes a user's token or an upload link's; listing takes a user's only.
    assert.deepEqual(create.security, [{ bearer: [] }, { uploadLink: [] }]);
    const securityOf = (path: string, method: string) =>
      (doc.paths[path]?.[method] as unknown as { security?: unknown } | undefined)?.security;
    assert.deepEqual(securityOf("/v1/uploads", "get"), [{ bearer: [] }]);
    assert.deepEqual(securityOf("/v1/upload-links", "post"), [{ bearer: [] }]);
    assert.deepEqual(create.tags, ["uploads"]);
    assert.match(create.responses["413"]?.description ?? "", /FILE_TOO_LARGE, QUOTA_EXCEEDED/);
    for (const op of Object.values(operations)) {
      for (const code of op.errors) {
        const path = op.path.replace(/:(\w+)/g, "{$1}").replace(/\*$/, "{key}");
        const response = doc.paths[path]?.[op.method.toLowerCase()]?.responses[String(ERROR_STATUS[code])];
        assert.ok(response?.description.includes(code), `${op.operationId}: ${code} is documented under ${ERROR_STATUS[code]}`);
      }
    }
  });

  it("leaves out what is not the REST contract, and serves a page at /docs", async () => {
    assert.deepEqual(Object.keys(doc.paths).filter((p) => !/^\/(v1|storage|healthz|readyz)/.test(p)), []);
    const page = await rawRequest(`${server.baseUrl}/docs/`);
    assert.equal(page.status, 200);
    assert.match(page.body.toString(), /swagger-ui/i);
  });
});

describe("real answers against the OpenAPI document (contract test)", () => {
  let server: TestServer;
  let doc: OpenApiDocument;
  const exchanges: Exchange[] = [];
  /** Calls the running server and keeps the exchange for the contract check. */
  const call = async (method: string, path: string, options: Parameters<TestServer["api"]>[2] = {}): Promise<RawResponse> => {
    const response = await server.api(method, path, options);
    exchanges.push({ method, path, response });
    return response;
  };
  const object = async (method: string, url: string, headers: Record<string, string>, body?: Buffer): Promise<RawResponse> => {
    const response = await rawRequest(url, { method, headers, ...(body === undefined ? {} : { body }) });
    exchanges.push({ method, path: new URL(url).pathname, response });
    return response;
  };

  const dir = mkdtempSync(join(tmpdir(), "stowage-openapi-"));
  before(async () => {
    const config = join(dir, "stowage.config.json");
    // Parts from 5 MiB, so a multipart upload takes a few MiB here.
    writeFileSync(config, JSON.stringify({ policies: { document: { multipartThresholdBytes: 5 * 1024 * 1024 } } }));
    server = await startStowage({ STOWAGE_CONFIG_FILE: config });
    doc = (await server.api("GET", "/openapi.json")).json();
  });
  after(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("every answer of a full session validates against the document", async () => {
    await call("GET", "/healthz");
    await call("GET", "/readyz");

    // Presign, upload, confirm, read, download, delete: the single PUT.
    const created = await call("POST", "/v1/uploads", { as: "alice", body: { ownerType: "avatar", filename: "me.png", contentType: "image/png", size: PNG.length } });
    assert.equal(created.status, 201);
    const put = created.json();
    assert.equal(put.kind, "put");
    assert.equal((await object("PUT", put.url, put.headers, PNG)).status, 200);
    assert.equal((await object("PUT", put.url, put.headers, PNG)).status, 412);
    // With a contentMd5: other bytes of the signed length are refused (400 BAD_DIGEST), the right ones taken.
    const md5 = (bytes: Buffer) => createHash("md5").update(bytes).digest("base64");
    const avatarMd5 = { ownerType: "avatar", filename: "me.png", contentType: "image/png", size: PNG.length, contentMd5: md5(PNG) };
    const checked = (await call("POST", "/v1/uploads", { as: "alice", body: avatarMd5 })).json();
    assert.equal(checked.headers["Content-MD5"], md5(PNG));
    assert.equal((await object("PUT", checked.url, checked.headers, Buffer.from(PNG).fill(0, 40))).status, 400);
    assert.equal((await object("PUT", checked.url, checked.headers, PNG)).status, 200);
    assert.equal((await call("POST", `/v1/uploads/${put.id}/confirm`, { as: "alice" })).status, 200);
    assert.equal((await call("POST", `/v1/uploads/${put.id}/confirm`, { as: "bob" })).status, 404);
    assert.equal((await object("GET", `${server.baseUrl}/storage/public/${put.key}`, {})).status, 200);
    assert.equal((await object("GET", `${server.baseUrl}/storage/public/${put.key}`, { range: "bytes=0-3" })).status, 206);
    assert.equal((await object("GET", `${server.baseUrl}/storage/public/${put.key}`, { range: "bytes=9999-" })).status, 416);
    assert.equal((await object("GET", `${server.baseUrl}/storage/private/nothing/here`, {})).status, 403);
    assert.equal((await call("GET", `/v1/uploads/${put.id}`, { as: "alice" })).status, 200);
    assert.equal((await call("GET", "/v1/uploads?limit=1", { as: "alice" })).status, 200);
    assert.equal((await call("GET", `/v1/uploads/${put.id}/download`, { as: "alice" })).status, 200);
    assert.equal((await call("GET", `/v1/uploads/${put.id}/download?redirect=true`, { as: "alice" })).status, 302);
    assert.equal((await call("GET", "/v1/quota", { as: "alice" })).status, 200);
    assert.equal((await call("GET", "/v1/policies", { as: "alice" })).status, 200);

    // A private document, attached to a record; a second attach elsewhere conflicts.
    const doc1 = (await call("POST", "/v1/uploads", { as: "alice", body: { ownerType: "document", filename: "a.pdf", contentType: "application/pdf", size: PDF.length } })).json();
    assert.equal((await call("GET", `/v1/uploads/${doc1.id}/download`, { as: "alice" })).status, 409);
    assert.equal((await call("POST", `/v1/uploads/${doc1.id}/confirm`, { as: "alice" })).status, 422);
    await object("PUT", doc1.url, doc1.headers, PDF);
    assert.equal((await call("POST", `/v1/uploads/${doc1.id}/confirm`, { as: "alice" })).status, 200);
    assert.equal((await call("POST", "/v1/uploads/attach", { as: "alice", body: { uploadIds: [doc1.id], parent: { type: "message", id: "m1" } } })).status, 200);
    assert.equal((await call("POST", "/v1/uploads/attach", { as: "alice", body: { uploadIds: [doc1.id], parent: { type: "message", id: "m2" } } })).status, 409);

    // Multipart: plan, more part URLs, the parts, complete, confirm.
    const big = png(6 * 1024 * 1024);
    const plan = (await call("POST", "/v1/uploads", { as: "alice", body: { ownerType: "document", filename: "big.png", contentType: "image/png", size: big.length } })).json();
    assert.equal(plan.kind, "multipart");
    const partOf = (n: number) => big.subarray((n - 1) * plan.multipart.partSize, n * plan.multipart.partSize);
    const contentMd5s = [md5(partOf(1)), md5(partOf(2))];
    const signed = await call("POST", `/v1/uploads/${plan.id}/parts`, { as: "alice", body: { partNumbers: [1, 2], contentMd5s } });
    assert.equal(signed.status, 200);
    const parts = [];
    for (const part of signed.json().parts) {
      const start = (part.partNumber - 1) * plan.multipart.partSize;
      const uploaded = await object("PUT", part.url, part.headers, big.subarray(start, start + plan.multipart.partSize));
      parts.push({ partNumber: part.partNumber, etag: String(uploaded.headers.etag) });
    }
    assert.equal((await call("POST", `/v1/uploads/${plan.id}/parts`, { as: "alice", body: { partNumbers: [3] } })).status, 400);
    const unpaired = await call("POST", `/v1/uploads/${plan.id}/parts`, { as: "alice", body: { partNumbers: [1, 2], contentMd5s: [md5(PNG)] } });
    assert.deepEqual([unpaired.status, unpaired.json().error.details.field], [400, "body.contentMd5s"]);
    assert.equal((await call("GET", `/v1/uploads/${plan.id}/parts`, { as: "alice" })).status, 200);
    assert.equal((await call("POST", `/v1/uploads/${plan.id}/complete`, { as: "alice", body: { parts } })).status, 200);
    assert.equal((await call("POST", `/v1/uploads/${plan.id}/confirm`, { as: "alice" })).status, 200);

    // An upload link: made, used by its holder, listed, shown, revoked, then refused.
    const made = await call("POST", "/v1/upload-links", { as: "alice", body: { ownerType: "document", expiresInSeconds: 600, maxUses: 1, note: "contract" } });
    assert.equal(made.status, 201);
    const holder = { headers: { authorization: `UploadLink ${made.json().token}` } };
    const pdfBody = { ownerType: "document", filename: "signed.pdf", contentType: "application/pdf", size: PDF.length };
    const viaLink = (await call("POST", "/v1/uploads", { ...holder, body: pdfBody })).json();
    await object("PUT", viaLink.url, viaLink.headers, PDF);
    assert.equal((await call("POST", `/v1/uploads/${viaLink.id}/confirm`, holder)).status, 200);
    assert.equal((await call("GET", `/v1/uploads/${viaLink.id}`, holder)).status, 200);
    assert.equal((await call("GET", "/v1/policies", holder)).status, 200);
    assert.equal((await call("POST", "/v1/uploads", { ...holder, body: pdfBody })).status, 403);
    assert.equal((await call("DELETE", `/v1/uploads/${viaLink.id}`, holder)).status, 403);
    assert.equal((await call("GET", "/v1/quota", holder)).status, 401);
    assert.equal((await call("GET", "/v1/upload-links?limit=5", { as: "alice" })).status, 200);
    assert.equal((await call("GET", `/v1/upload-links/${made.json().id}`, { as: "alice" })).status, 200);
    assert.equal((await call("GET", `/v1/upload-links/${made.json().id}`, { as: "bob" })).status, 404);
    assert.equal((await call("POST", "/v1/upload-links", { as: "alice", body: { ownerType: "document", expiresInSeconds: 600, maxUses: 1, maxBytesPerUpload: 10 ** 12 } })).status, 400);
    assert.equal((await call("DELETE", `/v1/upload-links/${made.json().id}`, { as: "alice" })).status, 204);
    assert.equal((await call("POST", "/v1/uploads", { ...holder, body: pdfBody })).status, 410);

    // Refusals.
    const refusals: [number, string, string, Parameters<TestServer["api"]>[2]][] = [
      [401, "POST", "/v1/uploads", { body: { ownerType: "avatar" } }],
      [400, "POST", "/v1/uploads", { as: "alice", body: { ownerType: "avatar", filename: "x", contentType: "image/png", size: "5" } }],
      [400, "POST", "/v1/uploads", { as: "alice", body: { ownerType: "nope", filename: "x", contentType: "image/png", size: 5 } }],
      [413, "POST", "/v1/uploads", { as: "alice", body: { ownerType: "avatar", filename: "x", contentType: "image/png", size: 10 ** 9 } }],
      [415, "POST", "/v1/uploads", { as: "alice", body: { ownerType: "avatar", filename: "x", contentType: "text/html", size: 5 } }],
      [415, "POST", "/v1/uploads", { as: "alice", body: "{}", headers: { "content-type": "text/plain" } }],
      [400, "GET", "/v1/uploads?limit=0", { as: "alice" }],
      [400, "GET", "/v1/uploads?cursor=bm9wZQ", { as: "alice" }],
      [404, "GET", "/v1/uploads/0190a0a0-0000-7000-8000-000000000000", { as: "alice" }],
      [204, "DELETE", `/v1/uploads/${put.id}`, { as: "alice" }],
      [204, "DELETE", `/v1/uploads/${put.id}`, { as: "alice" }],
      [410, "POST", `/v1/uploads/${put.id}/confirm`, { as: "alice" }],
    ];
    for (const [status, method, path, options] of refusals) {
      assert.equal((await call(method, path, options)).status, status, `${method} ${path}`);
    }

    assert.deepEqual(contractProblems(doc, exchanges), []);
    const statuses = new Set(exchanges.map((e) => e.response.status));
    for (const status of [200, 201, 204, 206, 302, 400, 401, 403, 404, 409, 410, 412, 413, 415, 416, 422]) {
      assert.ok(statuses.has(status), `the session covers ${status}`);
    }
  });

  it("finds an answer that drifts from the document (the check itself can fail)", () => {
    const created = exchanges.find((e) => e.method === "POST" && e.path === "/v1/uploads" && e.response.status === 201);
    assert.ok(created !== undefined);
    const drifted = { ...created.response, body: Buffer.from(JSON.stringify({ ...created.response.json(), expiresAt: 12 })) };
    drifted.json = () => JSON.parse(drifted.body.toString());
    const undocumented = { ...created, response: { ...created.response, status: 418 } };
    const problems = contractProblems(doc, [{ ...created, response: drifted }, undocumented]);
    assert.equal(problems.length, 2, problems.join("\n"));
  });
});

import assert from "node:assert/strict";
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { ELF, EXE, PDF, PNG, png } from "../helpers/fixtures.js";
import { confirm, presign, presignAndPut } from "../helpers/flow.js";
import { putPresigned, rawRequest } from "../helpers/http.js";
import { startStowage, type TestServer } from "../helpers/server.js";

describe("upload flow over HTTP (SQLite + local disk)", () => {
  let server: TestServer;
  before(async () => {
    server = await startStowage({ STOWAGE_PUBLIC_BASE_URL: "https://cdn.example.com/media/" });
  });
  after(async () => server.close());

  const objectPath = (key: string, bucket: string) =>
    join(server.dataDir, "storage", "objects", bucket, key);

  it("presigns, uploads, confirms, serves, lists and deletes", async () => {
    const res = await presign(server, "alice", {
      ownerType: "avatar",
      contentType: "image/png",
      size: PNG.length,
      filename: "me.png",
    });
    assert.equal(res.status, 201, res.body.toString());
    const presigned = res.json();
    assert.match(presigned.id, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-/, "UUIDv7 id");
    assert.equal(presigned.key, `avatars/alice/${presigned.id}.png`);
    assert.equal(presigned.method, "PUT");
    assert.deepEqual(presigned.headers, {
      "Content-Type": "image/png",
      "Content-Length": String(PNG.length),
      "Cache-Control": "public, max-age=86400",
    });
    assert.ok(Date.parse(presigned.expiresAt) > Date.now());

    const pending = await server.api("GET", `/v1/uploads/${presigned.id}`, { as: "alice" });
    assert.equal(pending.json().status, "pending");

    assert.equal((await putPresigned(presigned, PNG)).status, 200);
    const confirmed = await confirm(server, "alice", presigned.id);
    assert.equal(confirmed.status, 200, confirmed.body.toString());
    assert.deepEqual(confirmed.json(), {
      id: presigned.id,
      status: "confirmed",
      size: PNG.length,
      contentType: "image/png",
      url: `https://cdn.example.com/media/avatars/alice/${presigned.id}.png`,
    });
    assert.deepEqual((await server.api("GET", "/v1/quota", { as: "alice" })).json(), {
      usedBytes: PNG.length,
      reservedBytes: 0,
      limitBytes: 100 * 1024 * 1024,
      pendingUploads: 0,
    });

    const served = await rawRequest(`${server.baseUrl}/storage/public/${presigned.key}`);
    assert.equal(served.status, 200);
    assert.deepEqual(served.body, PNG);
    assert.equal(served.headers["content-type"], "image/png");
    assert.equal(served.headers["cache-control"], "public, max-age=86400");
    assert.equal(served.headers["x-content-type-options"], "nosniff");

    const list = await server.api("GET", "/v1/uploads?ownerType=avatar", { as: "alice" });
    assert.deepEqual(
      list.json().items.map((u: { id: string; filename: string }) => [u.id, u.filename]),
      [[presigned.id, "me.png"]],
    );

    const deleted = await server.api("DELETE", `/v1/uploads/${presigned.id}`, { as: "alice" });
    assert.equal(deleted.status, 204);
    assert.equal(
      existsSync(objectPath(presigned.key, "public")),
      false,
      "object removed from disk",
    );
    assert.equal((await server.api("GET", "/v1/quota", { as: "alice" })).json().usedBytes, 0);
    assert.equal(
      (await server.api("GET", `/v1/uploads/${presigned.id}`, { as: "alice" })).json().status,
      "deleted",
    );
    assert.equal(
      (await server.api("DELETE", `/v1/uploads/${presigned.id}`, { as: "alice" })).status,
      204,
      "delete is idempotent",
    );
    assert.equal(
      (await server.api("GET", "/v1/uploads?ownerType=avatar", { as: "alice" })).json().items
        .length,
      0,
    );
  });

  it("confirming twice answers the same and charges once", async () => {
    const up = await presignAndPut(server, "twice", PDF, { contentType: "application/pdf" });
    const first = await confirm(server, "twice", up.id);
    const second = await confirm(server, "twice", up.id);
    assert.equal(first.status, 200);
    assert.equal(second.status, 200);
    assert.equal(first.json().size, second.json().size);
    assert.equal(
      (await server.api("GET", "/v1/quota", { as: "twice" })).json().usedBytes,
      PDF.length,
    );
  });

  it("gives private uploads a signed download URL with the original filename", async () => {
    const up = await presignAndPut(server, "bob", PDF, {
      contentType: "application/pdf",
      filename: "Résumé 2026 \"final\".pdf",
    });
    const confirmed = (await confirm(server, "bob", up.id)).json();
    assert.match(confirmed.url, /signature=/, "private: a signed URL, not a public one");
    assert.equal(
      (await rawRequest(`${server.baseUrl}/storage/private/${up.key}`)).status,
      403,
      "unsigned read refused",
    );

    const dl = await server.api("GET", `/v1/uploads/${up.id}/download`, { as: "bob" });
    assert.equal(dl.status, 200);
    const got = await rawRequest(dl.json().url);
    assert.equal(got.status, 200);
    assert.deepEqual(got.body, PDF);
    const disposition = String(got.headers["content-disposition"]);
    assert.match(
      disposition,
      /^attachment; filename="Resume 2026 \\"final\\".pdf"; filename\*=UTF-8''R%C3%A9sum%C3%A9%202026%20%22final%22.pdf$/,
    );

    const redirect = await server.api("GET", `/v1/uploads/${up.id}/download?redirect=true`, {
      as: "bob",
    });
    assert.equal(redirect.status, 302);
    assert.match(
      String(redirect.headers.location),
      /^http:\/\/127\.0\.0\.1:\d+\/storage\/private\//,
    );
  });

  it("serves byte ranges", async () => {
    const up = await presignAndPut(server, "ranger", PDF, { contentType: "application/pdf" });
    await confirm(server, "ranger", up.id);
    const url = (await server.api("GET", `/v1/uploads/${up.id}/download`, { as: "ranger" })).json()
      .url;
    const part = await rawRequest(url, { headers: { range: "bytes=0-3" } });
    assert.equal(part.status, 206);
    assert.equal(part.body.toString(), "%PDF");
    assert.equal(part.headers["content-range"], `bytes 0-3/${PDF.length}`);
    const outside = await rawRequest(url, { headers: { range: `bytes=${PDF.length + 10}-` } });
    assert.equal(outside.status, 416);
  });

  it("refuses at presign: unknown type, disallowed MIME, too large, zero size, missing ownerId", async () => {
    const cases: [Record<string, unknown>, number, string][] = [
      [{ ownerType: "nope", contentType: "image/png", size: 10 }, 400, "UNKNOWN_OWNER_TYPE"],
      [
        { ownerType: "avatar", contentType: "image/gif", size: 10 },
        415,
        "CONTENT_TYPE_NOT_ALLOWED",
      ],
      [{ ownerType: "avatar", contentType: "image/png", size: 5_000_001 }, 413, "FILE_TOO_LARGE"],
      [{ ownerType: "avatar", contentType: "image/png", size: 0 }, 400, "INVALID_REQUEST"],
      [{ ownerType: "chat_upload", contentType: "image/png", size: 10 }, 400, "OWNER_ID_REQUIRED"],
    ];
    for (const [input, status, code] of cases) {
      const res = await presign(server, "carol", input as { contentType: string; size: number });
      assert.equal(res.status, status, JSON.stringify(input));
      assert.equal(res.json().error.code, code);
    }
    assert.equal(
      (await server.api("GET", "/v1/uploads", { as: "carol" })).json().items.length,
      0,
      "nothing recorded",
    );
  });

  it("names the bad field of an invalid request", async () => {
    const res = await server.api("POST", "/v1/uploads", {
      as: "carol",
      body: { ownerType: "avatar", filename: "x", contentType: "image/png", size: "big" },
    });
    assert.equal(res.status, 400);
    assert.equal(res.json().error.code, "INVALID_REQUEST");
    assert.equal(res.json().error.details.field, "body.size");
    const extra = await server.api("POST", "/v1/uploads", {
      as: "carol",
      body: { ownerType: "avatar", filename: "x", contentType: "image/png", size: 5, key: "x" },
    });
    assert.equal(extra.status, 400);
    const notJson = await server.api("POST", "/v1/uploads", {
      as: "carol",
      body: "x",
      headers: { "content-type": "text/plain" },
    });
    assert.equal(notJson.status, 415);
    assert.equal(notJson.json().error.code, "UNSUPPORTED_MEDIA_TYPE");
  });

  it("refuses spoofed content at confirm and deletes the object", async () => {
    for (const [body, declared, ownerType] of [
      [PNG, "application/pdf", "document"],
      [EXE, "image/png", "avatar"],
      [ELF, "image/png", "avatar"],
      [Buffer.from("just some text, not an image"), "image/jpeg", "avatar"],
    ] as const) {
      const up = await presignAndPut(server, "mallory", body, { ownerType, contentType: declared });
      const res = await confirm(server, "mallory", up.id);
      assert.equal(res.status, 415, `${declared}: ${res.body}`);
      assert.equal(res.json().error.code, "CONTENT_TYPE_MISMATCH");
      assert.equal(
        existsSync(objectPath(up.key, ownerType === "avatar" ? "public" : "private")),
        false,
        "never promoted to its key",
      );
      assert.equal(statSync(objectPath(`staging/${up.id}`, "private")).size, 0, "the refused bytes are dropped, the URL's key sealed");
      const view = (await server.api("GET", `/v1/uploads/${up.id}`, { as: "mallory" })).json();
      assert.equal(view.status, "rejected");
      assert.equal(view.rejection.code, "CONTENT_TYPE_MISMATCH");
      const again = await confirm(server, "mallory", up.id);
      assert.equal(again.status, 415, "confirming a rejected upload again gives the same verdict");
    }
    assert.equal((await server.api("GET", "/v1/quota", { as: "mallory" })).json().usedBytes, 0);
  });

  it("answers 422 UPLOAD_NOT_FOUND when nothing was uploaded, and stays pending", async () => {
    const res = await presign(server, "dave", { contentType: "application/pdf", size: PDF.length });
    const id = res.json().id;
    const confirmed = await confirm(server, "dave", id);
    assert.equal(confirmed.status, 422);
    assert.equal(confirmed.json().error.code, "UPLOAD_NOT_FOUND");
    assert.equal(
      (await server.api("GET", `/v1/uploads/${id}`, { as: "dave" })).json().status,
      "pending",
    );
    assert.equal((await putPresigned(res.json(), PDF)).status, 200);
    assert.equal(
      (await confirm(server, "dave", id)).status,
      200,
      "confirm works once the bytes arrive",
    );
  });

  it("downloading an unconfirmed upload is refused", async () => {
    const res = await presign(server, "erin", { contentType: "application/pdf", size: 100 });
    const dl = await server.api("GET", `/v1/uploads/${res.json().id}/download`, { as: "erin" });
    assert.equal(dl.status, 409);
    assert.equal(dl.json().error.code, "UPLOAD_NOT_CONFIRMED");
  });

  it("keeps the filename out of the key, whatever it holds", async () => {
    const res = await presign(server, "frank", {
      ownerType: "chat_upload",
      ownerId: "room-42",
      contentType: "image/png",
      size: 100,
      filename: "../../../etc/passwd\u0000.png",
    });
    assert.equal(res.status, 201);
    const { id, key } = res.json();
    assert.equal(key, `chat/room-42/${id}.png`);
    assert.equal(
      (await server.api("GET", `/v1/uploads/${id}`, { as: "frank" })).json().filename,
      "passwd.png",
    );
  });

  it("refuses path-traversal-shaped ownerIds and ids", async () => {
    for (const ownerId of ["../other-room", "a/b", ".hidden", "..", "room%2F..", "x".repeat(200)]) {
      const res = await presign(server, "frank", {
        ownerType: "chat_upload",
        ownerId,
        contentType: "image/png",
        size: 10,
      });
      assert.equal(res.status, 400, ownerId);
      assert.equal(res.json().error.code, "INVALID_REQUEST");
    }
    for (const id of ["..%2F..%2Fetc", "not-a-uuid", "%2e%2e", "..", "%00"]) {
      const res = await server.api("GET", `/v1/uploads/${id}`, { as: "frank" });
      assert.ok(res.status === 400 || res.status === 404, `${id}: ${res.status}`);
      assert.ok(["INVALID_REQUEST", "NOT_FOUND"].includes(res.json().error.code));
    }
  });

  it("paginates the caller's own uploads with a cursor", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++)
      ids.push(
        (await presign(server, "gina", { contentType: "application/pdf", size: 10 + i })).json().id,
      );
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const path: string = `/v1/uploads?limit=2${cursor ? `&cursor=${cursor}` : ""}`;
      const page = (await server.api("GET", path, { as: "gina" })).json();
      assert.ok(page.items.length <= 2);
      seen.push(...page.items.map((u: { id: string }) => u.id));
      cursor = page.nextCursor;
    } while (cursor !== null);
    assert.deepEqual(seen, [...ids].reverse(), "newest first, each once");
    const bad = await server.api("GET", "/v1/uploads?cursor=bogus", { as: "gina" });
    assert.equal(bad.status, 400);
  });

  it("refuses an upload larger than the policy even if presigned small (size is signed)", async () => {
    const res = await presign(server, "hal", {
      ownerType: "avatar",
      contentType: "image/png",
      size: 100,
    });
    const put = await putPresigned(res.json(), png(200), { "Content-Length": "200" });
    assert.equal(put.status, 403);
  });

  it("refuses a POST upload where the storage has no POST policies", async () => {
    const res = await presign(server, "poster", { contentType: "application/pdf", size: 10, method: "POST" });
    assert.equal(res.status, 400);
    assert.equal(res.json().error.details.field, "body.method");
  });

  it("answers health and readiness", async () => {
    assert.deepEqual((await server.api("GET", "/healthz")).json(), { status: "ok" });
    assert.deepEqual((await server.api("GET", "/readyz")).json(), { status: "ready" });
    const missing = await server.api("GET", "/nope");
    assert.equal(missing.status, 404);
    assert.equal(missing.json().error.code, "NOT_FOUND");
  });
});

import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { existsSync, readdirSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { PDF, PNG } from "../helpers/fixtures.js";
import { confirm, type Presigned, presign, presignAndPut } from "../helpers/flow.js";
import { putPresigned, rawRequest } from "../helpers/http.js";
import { startStowage, type TestServer } from "../helpers/server.js";
import { storedBytes } from "../helpers/stored.js";

/** Sends raw bytes on a socket and returns what the server answered (status line first). */
function rawHttp(baseUrl: string, request: Buffer): Promise<string> {
  const { hostname, port } = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    const chunks: Buffer[] = [];
    socket.on("data", (c: Buffer) => chunks.push(c));
    socket.on("error", reject);
    socket.on("close", () => resolve(Buffer.concat(chunks).toString("latin1")));
    socket.end(request);
  });
}

/**
 * Waits for the server to finish with a dropped connection: it may not have started on the
 * body when the socket closes, so give it a moment, then up to 2 s for temp files to go.
 */
async function settled(pending: () => unknown[]): Promise<void> {
  await new Promise((r) => setTimeout(r, 300));
  for (let i = 0; i < 40 && pending().length > 0; i++) await new Promise((r) => setTimeout(r, 50));
}

describe("local object endpoint (the embedded default's stand-in for S3)", () => {
  let server: TestServer;
  before(async () => {
    server = await startStowage();
  });
  after(async () => server.close());

  const objectFile = (key: string) => join(server.dataDir, "storage", "objects", "private", key);
  /** The key an upload URL writes to: its staging key, never the key it is served from. */
  const urlKey = (up: Presigned) => `staging/${up.id}`;
  const tmpFiles = () => readdirSync(join(server.dataDir, "storage", "tmp"));
  const newUpload = async (size = PDF.length): Promise<Presigned> =>
    (await presign(server, "uploader", { contentType: "application/pdf", size })).json();

  it("refuses another Content-Type with 403 and stores nothing", async () => {
    const up = await newUpload();
    const res = await putPresigned(up, PDF, { "Content-Type": "text/html" });
    assert.equal(res.status, 403);
    assert.equal(res.json().error.code, "SIGNATURE_MISMATCH");
    assert.equal(existsSync(objectFile(urlKey(up))), false);
  });

  it("refuses a missing Content-Length (chunked body) with 411", async () => {
    const up = await newUpload();
    const url = new URL(up.url);
    const answer = await rawHttp(
      server.baseUrl,
      Buffer.from(
        `PUT ${url.pathname}${url.search} HTTP/1.1\r\nHost: x\r\nContent-Type: application/pdf\r\n` +
        `Cache-Control: ${up.headers["Cache-Control"]}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n` +
        `${PDF.length.toString(16)}\r\n${PDF.toString("latin1")}\r\n0\r\n\r\n`,
        "latin1",
      ),
    );
    assert.match(answer, /^HTTP\/1\.1 411 /);
    assert.equal(existsSync(objectFile(urlKey(up))), false);
  });

  it("refuses a longer Content-Length than signed with 403", async () => {
    const up = await newUpload();
    const longer = Buffer.concat([PDF, Buffer.from("extra")]);
    const res = await putPresigned(up, longer, { "Content-Length": String(longer.length) });
    assert.equal(res.status, 403);
    assert.equal(existsSync(objectFile(urlKey(up))), false);
  });

  it("never stores more than the signed length when the body runs over", async () => {
    const up = await newUpload();
    const url = new URL(up.url);
    const head =
      `PUT ${url.pathname}${url.search} HTTP/1.1\r\nHost: x\r\nContent-Type: application/pdf\r\n` +
      `Content-Length: ${PDF.length}\r\nCache-Control: ${up.headers["Cache-Control"]}\r\nConnection: close\r\n\r\n`;
    await rawHttp(
      server.baseUrl,
      Buffer.concat([Buffer.from(head), PDF, Buffer.from("TRAILING GARBAGE")]),
    );
    await settled(tmpFiles);
    // Node's parser reads exactly Content-Length bytes as the body and treats the rest as a
    // (malformed) next request, which aborts the connection: either outcome stores no extra byte.
    const stat = await server.runtime.driver.stat({ bucket: "private", key: urlKey(up) });
    assert.ok(stat === undefined || stat.size === PDF.length, `stored ${stat?.size} bytes`);
    assert.deepEqual(tmpFiles(), []);
  });

  it("leaves no object and no temp file when the client stops early", async () => {
    const up = await newUpload(10_000);
    const url = new URL(up.url);
    const head =
      `PUT ${url.pathname}${url.search} HTTP/1.1\r\nHost: x\r\nContent-Type: application/pdf\r\n` +
      `Content-Length: 10000\r\nCache-Control: ${up.headers["Cache-Control"]}\r\n\r\n`;
    const { hostname, port } = new URL(server.baseUrl);
    await new Promise<void>((resolve) => {
      const socket = connect(Number(port), hostname, () => {
        socket.write(Buffer.concat([Buffer.from(head), PDF]));
        setTimeout(() => socket.destroy(), 100);
      });
      socket.on("close", () => resolve());
    });
    await settled(tmpFiles);
    assert.equal(existsSync(objectFile(urlKey(up))), false);
    assert.deepEqual(tmpFiles(), []);
  });

  it("hashes a body sent with a Content-MD5: a mismatch is 400 BAD_DIGEST, with no object and no temp file left", async () => {
    const md5 = (bytes: Buffer) => createHash("md5").update(bytes).digest("base64");
    const input = { ownerType: "document", filename: "a.pdf", contentType: "application/pdf", size: PDF.length, contentMd5: md5(PDF) };
    const up: Presigned = (await server.api("POST", "/v1/uploads", { as: "uploader", body: input })).json();
    const bad = Buffer.from(PDF).fill(0x41, 20);
    const res = await putPresigned(up, bad);
    assert.equal(res.status, 400);
    assert.equal(res.json().error.code, "BAD_DIGEST");
    assert.deepEqual(res.json().error.details, { contentMd5: md5(PDF), computedMd5: md5(bad) });
    assert.equal(existsSync(objectFile(urlKey(up))), false);
    assert.deepEqual(tmpFiles(), []);

    // A Content-MD5 that is no MD5 at all, on a URL that signed none: refused before any byte is kept.
    const plain = await newUpload();
    const malformed = await putPresigned(plain, PDF, { "Content-MD5": createHash("md5").update(PDF).digest("hex") });
    assert.equal(malformed.status, 400);
    assert.deepEqual([malformed.json().error.code, malformed.json().error.details.field], ["INVALID_REQUEST", "headers.content-md5"]);
    assert.equal(existsSync(objectFile(urlKey(plain))), false);
    assert.deepEqual(tmpFiles(), []);
  });

  it("refuses a tampered signature or expiry with 403", async () => {
    const up = await newUpload();
    const tampered = up.url.replace(/signature=./, (m) =>
      m.endsWith("A") ? `${m.slice(0, -1)}B` : `${m.slice(0, -1)}A`,
    );
    assert.equal((await putPresigned({ ...up, url: tampered }, PDF)).status, 403);
    const later = up.url.replace(/expires=(\d+)/, (_m, e: string) => `expires=${Number(e) + 3600}`);
    assert.equal((await putPresigned({ ...up, url: later }, PDF)).status, 403);
    const unsigned = up.url.split("?")[0] ?? "";
    assert.equal((await putPresigned({ ...up, url: unsigned }, PDF)).status, 403);
    assert.equal(existsSync(objectFile(urlKey(up))), false);
  });

  it("is single-use: a second PUT cannot replace the bytes", async () => {
    const up = await newUpload();
    assert.equal((await putPresigned(up, PDF)).status, 200);
    const swapped = Buffer.from(PDF).fill(0x41, 10);
    const second = await putPresigned(up, swapped);
    assert.equal(second.status, 412);
    assert.equal(second.json().error.code, "OBJECT_EXISTS");
    const stored = await storedBytes(server.runtime.driver, {
      bucket: "private",
      key: urlKey(up),
      length: PDF.length,
    });
    assert.deepEqual(Buffer.from(stored), PDF);
    assert.deepEqual(tmpFiles(), []);
  });

  it("cannot reach outside a bucket by path traversal", async () => {
    const secret = join(server.dataDir, "storage", "objects", "private", "secret.txt");
    writeFileSync(secret, "private bytes");
    for (const path of [
      "/storage/public/..%2Fprivate%2Fsecret.txt",
      "/storage/public/%2e%2e/private/secret.txt",
      "/storage/public/a/..%2F..%2Fprivate%2Fsecret.txt",
      "/storage/public/..%5Cprivate%5Csecret.txt",
      "/storage/..%2Fobjects/private/secret.txt",
    ]) {
      const res = await rawRequest(`${server.baseUrl}${path}`);
      assert.ok([400, 403, 404].includes(res.status), `${path}: ${res.status}`);
      assert.ok(!res.body.toString().includes("private bytes"), path);
    }
  });

  it("answers HEAD with the object's headers", async () => {
    const up = await newUpload();
    await putPresigned(up, PDF);
    const signed = await server.runtime.driver.presignGet({
      bucket: "private",
      key: urlKey(up),
      expiresInSeconds: 60,
    });
    const res = await rawRequest(signed.url, { method: "HEAD" });
    assert.equal(res.status, 200);
    assert.equal(res.headers["content-length"], String(PDF.length));
    assert.equal(res.headers["content-type"], "application/pdf");
    assert.equal(res.body.length, 0);
  });

  it("answers a key's folder as no object, before and after its upload is deleted, and caches no refusal", async () => {
    const up = await presignAndPut(server, "carol@example.com", PNG, { ownerType: "avatar", contentType: "image/png" });
    assert.equal((await confirm(server, "carol@example.com", up.id)).status, 200);
    const objectUrl = `${server.baseUrl}/storage/public/${up.key}`;
    const folders = up.key.split("/").slice(0, -1).map((_, i, parts) => parts.slice(0, i + 1).join("/"));
    assert.ok(folders.some((folder) => folder.includes("carol@example.com")), `a folder names the user: ${up.key}`);
    const refusesFolders = async () => {
      for (const folder of folders) {
        for (const method of ["HEAD", "GET"]) {
          const res = await rawRequest(`${server.baseUrl}/storage/public/${folder}`, { method });
          assert.equal(res.status, 404, `${method} ${folder}`);
          assert.equal(res.headers["last-modified"], undefined, `${method} ${folder}`);
          assert.equal(res.headers.etag, undefined, `${method} ${folder}`);
          assert.equal(res.headers["cache-control"], "no-store", `${method} ${folder}`);
          if (method === "GET") assert.equal(res.json().error.code, "NOT_FOUND");
        }
      }
    };
    assert.equal((await rawRequest(objectUrl, { method: "GET" })).status, 200);
    await refusesFolders();

    // A refusal about a real object is not cached either, and carries none of its validators.
    const outside = await rawRequest(objectUrl, { method: "GET", headers: { range: "bytes=9999-" } });
    assert.equal(outside.status, 416);
    assert.equal(outside.json().error.code, "RANGE_NOT_SATISFIABLE");
    assert.equal(outside.headers["content-range"], `bytes */${PNG.length}`);
    assert.equal(outside.headers["cache-control"], "no-store");
    assert.equal(outside.headers.etag, undefined);
    assert.equal(outside.headers["last-modified"], undefined);

    assert.equal((await server.api("DELETE", `/v1/uploads/${up.id}`, { as: "carol@example.com" })).status, 204);
    assert.equal((await rawRequest(objectUrl, { method: "GET" })).status, 404);
    await refusesFolders();
  });
});

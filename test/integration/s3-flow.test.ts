import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { ConfigError } from "../../src/errors.js";
import { PDF, PNG } from "../helpers/fixtures.js";
import { confirm, presign, presignAndPut } from "../helpers/flow.js";
import { putPresigned, rawRequest } from "../helpers/http.js";
import { relay } from "../helpers/relay.js";
import { s3Env, tempBucket } from "../helpers/s3.js";
import { freePort, startStowage, type TestServer } from "../helpers/server.js";
import { storedBytes } from "../helpers/stored.js";

describe("the upload flow on S3 (Ceph RGW)", () => {
  let server: TestServer;
  let media: Awaited<ReturnType<typeof tempBucket>>;
  let compliance: Awaited<ReturnType<typeof tempBucket>>;
  let outage: Awaited<ReturnType<typeof relay>>;

  before(async () => {
    media = await tempBucket("stowage-media");
    compliance = await tempBucket("stowage-compliance");
    const env = s3Env();
    outage = await relay(new URL(env.endpoint), await freePort());
    server = await startStowage({
      STOWAGE_STORAGE: "s3",
      STOWAGE_S3_ENDPOINT: `http://127.0.0.1:${outage.port}`,
      STOWAGE_S3_ACCESS_KEY_ID: env.accessKeyId,
      STOWAGE_S3_SECRET_ACCESS_KEY: env.secretAccessKey,
      STOWAGE_S3_REGION: env.region,
      STOWAGE_S3_BUCKET: media.name,
      STOWAGE_S3_COMPLIANCE_BUCKET: compliance.name,
      STOWAGE_PUBLIC_BASE_URL: "https://cdn.example.com",
      STOWAGE_S3_POST_POLICY: "true",
    });
  });
  after(async () => {
    await server.close();
    await outage.cut();
    await media.drop();
    await compliance.drop();
  });

  const stat = (bucket: string, key: string) => server.runtime.driver.stat({ bucket, key });

  it("presigns a PUT straight to the store, confirms with one ranged GET, serves a signed download", async () => {
    const res = await presign(server, "alice", { contentType: "application/pdf", size: PDF.length, filename: "Über.pdf" });
    assert.equal(res.status, 201);
    const up = res.json();
    // The URL names a staging key, never the key the upload will be served from.
    assert.ok(up.url.startsWith(`http://127.0.0.1:${outage.port}/${media.name}/staging/${up.id}?`), up.url);
    assert.match(up.key, /^documents\/alice\//);
    assert.match(up.url, /X-Amz-Signature=/);
    assert.equal(up.headers["If-None-Match"], "*");
    assert.equal((await putPresigned(up, PDF)).status, 200);

    assert.equal(await stat("private", up.key), undefined, "nothing at the served key before confirm");
    const confirmed = await confirm(server, "alice", up.id);
    assert.equal(confirmed.status, 200, confirmed.body.toString());
    assert.equal((await stat("private", up.key))?.contentType, "application/pdf", "promoted, with the server's type");
    const download = await rawRequest(confirmed.json().url);
    assert.equal(download.status, 200);
    assert.deepEqual(download.body, PDF);
    assert.match(String(download.headers["content-disposition"]), /filename\*=UTF-8''%C3%9Cber\.pdf/);
    assert.equal(download.headers["cache-control"], "private, max-age=86400");
  });

  it("gives public owner types the CDN URL", async () => {
    const up = await presignAndPut(server, "alice", PNG, { ownerType: "avatar", contentType: "image/png" });
    const confirmed = (await confirm(server, "alice", up.id)).json();
    assert.equal(confirmed.url, `https://cdn.example.com/${up.key}`);
  });

  it("puts signed PDFs into the compliance bucket", async () => {
    const up = await presignAndPut(server, "notary", PDF, { ownerType: "signed_pdf", contentType: "application/pdf" });
    // Staged in the media bucket (the compliance bucket may lock what lands in it), promoted across.
    assert.ok(up.url.includes(`/${media.name}/staging/${up.id}?`), up.url);
    assert.match(up.key, /^signed-pdfs\//);
    assert.equal((await confirm(server, "notary", up.id)).status, 200);
    assert.equal((await stat("compliance", up.key))?.size, PDF.length);
  });

  it("lets the store itself refuse another type or length (403)", async () => {
    const res = await presign(server, "bob", { contentType: "application/pdf", size: PDF.length });
    const up = res.json();
    assert.equal((await putPresigned(up, PDF, { "Content-Type": "text/html" })).status, 403);
    const longer = Buffer.concat([PDF, Buffer.from("!")]);
    assert.equal((await putPresigned(up, longer, { "Content-Length": String(longer.length) })).status, 403);
    assert.equal(await stat("private", `staging/${up.id}`), undefined);
  });

  it("makes the bytes impossible to replace after confirm", async () => {
    const up = await presignAndPut(server, "carol", PDF, { contentType: "application/pdf" });
    assert.equal((await confirm(server, "carol", up.id)).status, 200);
    const before = await stat("private", up.key);
    const evil = Buffer.from(PDF).fill(0x41, 20);
    assert.equal((await putPresigned(up, evil)).status, 412, "If-None-Match: * is signed");
    assert.equal((await putPresigned(up, evil, { "If-None-Match": null })).status, 403, "and cannot be left out");
    assert.equal((await stat("private", up.key))?.etag, before?.etag);
  });

  it("offers a POST policy upload pinned to the exact size", async () => {
    const res = await presign(server, "poster", { contentType: "application/pdf", size: PDF.length, method: "POST" });
    assert.equal(res.status, 201, res.body.toString());
    const up = res.json();
    assert.equal(up.method, "POST");
    const post = (body: Buffer) => {
      const form = new FormData();
      for (const [name, value] of Object.entries(up.fields as Record<string, string>)) form.append(name, value);
      form.append("file", new Blob([new Uint8Array(body)], { type: "application/pdf" }));
      return fetch(up.url, { method: "POST", body: form });
    };
    const tooBig = await post(Buffer.concat([PDF, Buffer.from("more")]));
    assert.equal(tooBig.status, 400, await tooBig.text());
    const ok = await post(PDF);
    assert.ok(ok.status === 204 || ok.status === 200 || ok.status === 201, `status ${ok.status}: ${await ok.text()}`);
    assert.equal((await confirm(server, "poster", up.id)).status, 200);
    // A form cannot be made conditional: submitted again, the store takes it, into the staging
    // key. What is served is the promoted copy, which no form names (and why POST is opt-in).
    const served = await storedBytes(server.runtime.driver, { bucket: "private", key: up.key, length: 1 << 20 });
    const again = await post(Buffer.from(PDF).fill(0x41, 20));
    assert.ok(again.status < 300, `status ${again.status}`);
    assert.deepEqual(await storedBytes(server.runtime.driver, { bucket: "private", key: up.key, length: 1 << 20 }), served);
  });

  it("refuses and deletes a spoofed object at confirm", async () => {
    const up = await presignAndPut(server, "mallory", Buffer.from("MZ this is no png at all"), { ownerType: "avatar", contentType: "image/png" });
    const res = await confirm(server, "mallory", up.id);
    assert.equal(res.status, 415);
    assert.equal(await stat("public", up.key), undefined, "deleted from the bucket");
  });

  it("answers 503 STORAGE_UNAVAILABLE while the store is down, changes nothing, and recovers", async () => {
    const up = await presignAndPut(server, "dora", PDF, { contentType: "application/pdf" });
    await outage.cut();
    try {
      const res = await confirm(server, "dora", up.id);
      assert.equal(res.status, 503);
      assert.equal(res.json().error.code, "STORAGE_UNAVAILABLE");
      assert.ok(res.headers["retry-after"]);
      assert.equal((await server.api("GET", `/v1/uploads/${up.id}`, { as: "dora" })).json().status, "pending");
      assert.equal((await server.api("GET", "/v1/quota", { as: "dora" })).json().usedBytes, 0);
      assert.equal((await server.api("GET", "/readyz")).status, 503);
    } finally {
      await outage.restore();
    }
    assert.equal((await confirm(server, "dora", up.id)).status, 200);
    assert.equal((await server.api("GET", "/readyz")).status, 200);
  });
});

describe("S3 start-up checks", () => {
  it("refuses to start with wrong credentials or a missing bucket, naming the setting", async () => {
    const env = s3Env();
    const bucket = await tempBucket();
    try {
      const base = {
        STOWAGE_STORAGE: "s3",
        STOWAGE_S3_ENDPOINT: env.endpoint,
        STOWAGE_S3_ACCESS_KEY_ID: env.accessKeyId,
        STOWAGE_S3_BUCKET: bucket.name,
      };
      await assert.rejects(
        startStowage({ ...base, STOWAGE_S3_SECRET_ACCESS_KEY: "wrong-secret" }),
        (error) => error instanceof ConfigError && /STOWAGE_S3_SECRET_ACCESS_KEY/.test(error.message),
      );
      await assert.rejects(
        startStowage({ ...base, STOWAGE_S3_SECRET_ACCESS_KEY: env.secretAccessKey, STOWAGE_S3_BUCKET: "no-such-bucket-here" }),
        (error) => error instanceof ConfigError && /no-such-bucket-here.*does not exist/.test(error.message),
      );
    } finally {
      await bucket.drop();
    }
  });
});

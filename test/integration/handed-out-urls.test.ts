import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { PDF, PNG } from "../helpers/fixtures.js";
import { confirm, type Presigned, presign, presignAndPut } from "../helpers/flow.js";
import { putPresigned, rawRequest } from "../helpers/http.js";
import { relay } from "../helpers/relay.js";
import { s3Env, stowageS3Env, tempBucket } from "../helpers/s3.js";
import { freePort, startStowage, type TestServer } from "../helpers/server.js";
import { MP4_HEADER, MiB, runSweep, SWEEP_BACKENDS, type SweepBackend } from "../helpers/sweep.js";
import { storedBytes } from "../helpers/stored.js";

const EVIL = Buffer.from("<html><script>alert(document.cookie)</script></html>");
/** An HTML payload the size of the PNG fixture, so a replayed PUT carries the signed length. */
const evilPng = Buffer.concat([EVIL, Buffer.alloc(PNG.length - EVIL.length, 0x20)]);
const video = (size: number) => Buffer.concat([MP4_HEADER, randomBytes(size - MP4_HEADER.length)]);

/**
 * What a handed-out upload URL can still do once its upload is settled (nothing), and what an
 * unconfirmed upload shows through a public URL (nothing either): on the embedded default and
 * on PostgreSQL + a real S3 server.
 */
for (const [name, makeBackend] of SWEEP_BACKENDS) describe(`handed-out URLs on ${name}`, () => {
  let backend: SweepBackend;
  let server: TestServer;
  before(async () => {
    backend = await makeBackend();
    server = backend.server;
  });
  after(async () => backend.close());

  /** What anyone gets for the upload's public URL (local: Stowage's own route; S3: the store). */
  const publicGet = async (key: string) => {
    const url = server.runtime.driver.publicUrl({ bucket: "public", key });
    assert.ok(url !== undefined);
    return rawRequest(url);
  };
  const served = async (key: string) => await storedBytes(server.runtime.driver, { bucket: "public", key, length: 1 << 20 });
  const avatar = (user = "ava") => presignAndPut(server, user, PNG, { ownerType: "avatar", contentType: "image/png" });

  it("serves nothing of an unconfirmed upload through its public URL", async () => {
    const up = await avatar();
    const before = await publicGet(up.key);
    assert.ok(before.status === 404 || before.status === 403, `status ${before.status}`);
    assert.notDeepEqual(before.body, PNG);
    assert.equal((await confirm(server, "ava", up.id)).status, 200);
    // The test S3 bucket is not public-read (a CDN would sit in front): check the object itself.
    if (backend.s3 === undefined) {
      const afterConfirm = await publicGet(up.key);
      assert.equal(afterConfirm.status, 200);
      assert.deepEqual(afterConfirm.body, PNG);
    } else assert.deepEqual(await served(up.key), PNG);
  });

  it("refuses a second PUT to the URL after confirm; the served bytes stay", async () => {
    const up = await avatar();
    assert.equal((await confirm(server, "ava", up.id)).status, 200);
    const replay = await putPresigned(up, evilPng);
    assert.equal(replay.status, 412, replay.body.toString());
    assert.deepEqual(await served(up.key), PNG);
  });

  it("refuses a PUT to the URL after the upload was deleted, and the public URL serves nothing", async () => {
    const up = await avatar("deleter");
    assert.equal((await confirm(server, "deleter", up.id)).status, 200);
    assert.equal((await server.api("DELETE", `/v1/uploads/${up.id}`, { as: "deleter" })).status, 204);
    assert.equal((await putPresigned(up, evilPng)).status, 412);
    const after = await publicGet(up.key);
    assert.ok(after.status === 404 || after.status === 403, `status ${after.status}`);
    assert.equal(await server.runtime.driver.stat({ bucket: "public", key: up.key }), undefined);
    assert.equal((await server.api("GET", "/v1/quota", { as: "deleter" })).json().usedBytes, 0);
  });

  it("refuses a PUT to the URL of a pending upload deleted before anything was sent", async () => {
    const res = await presign(server, "ava", { ownerType: "avatar", contentType: "image/png", size: PNG.length });
    const up = res.json<Presigned>();
    assert.equal((await server.api("DELETE", `/v1/uploads/${up.id}`, { as: "ava" })).status, 204);
    assert.equal((await putPresigned(up, PNG)).status, 412, "the URL's key is sealed");
    assert.equal((await confirm(server, "ava", up.id)).status, 410);
  });

  it("refuses a PUT to the URL after a rejected confirm", async () => {
    const res = await presign(server, "ava", { ownerType: "avatar", contentType: "image/png", size: PNG.length });
    const up = res.json<Presigned>();
    assert.equal((await putPresigned(up, evilPng)).status, 200);
    assert.equal((await confirm(server, "ava", up.id)).status, 415);
    assert.equal((await putPresigned(up, PNG)).status, 412);
    const after = await publicGet(up.key);
    assert.ok(after.status === 404 || after.status === 403);
  });

  it("makes part URLs useless once a multipart upload is confirmed or deleted", async () => {
    const body = video(6 * MiB);
    const start = async () => {
      const res = await server.api("POST", "/v1/uploads", {
        as: "vid",
        body: { ownerType: "video", filename: "clip.mp4", contentType: "video/mp4", size: body.length },
      });
      assert.equal(res.status, 201, res.body.toString());
      return res.json();
    };
    const partBody = (plan: { partSize: number }, n: number) => body.subarray((n - 1) * plan.partSize, n * plan.partSize);
    const up = await start();
    const parts: { partNumber: number; url: string; headers: Record<string, string> }[] = up.multipart.parts;
    const etags = [];
    for (const part of parts) {
      const put = await putPresigned(part, partBody(up.multipart, part.partNumber));
      etags.push({ partNumber: part.partNumber, etag: String(put.headers.etag) });
    }
    assert.equal((await server.api("POST", `/v1/uploads/${up.id}/complete`, { as: "vid", body: { parts: etags } })).status, 200);
    assert.equal((await confirm(server, "vid", up.id)).status, 200);
    const first = parts[0] as (typeof parts)[number];
    const replay = await putPresigned(first, partBody(up.multipart, 1));
    assert.ok(replay.status >= 400, `a part PUT after confirm answered ${replay.status}`);
    const stored = await storedBytes(server.runtime.driver, { bucket: "private", key: up.key, length: 64 });
    assert.deepEqual(stored, body.subarray(0, 64));

    const pending = await start();
    assert.equal((await server.api("DELETE", `/v1/uploads/${pending.id}`, { as: "vid" })).status, 204);
    const late = await putPresigned(pending.multipart.parts[0], partBody(pending.multipart, 1));
    assert.ok(late.status >= 400, `a part PUT after delete answered ${late.status}`);
  });

  it("deletes the staging objects of settled uploads once their URLs expire, never the served copy", async () => {
    const up = await avatar();
    assert.equal((await confirm(server, "ava", up.id)).status, 200);
    const stagingKey = `staging/${up.id}`;
    assert.ok(await server.runtime.driver.stat({ bucket: "private", key: stagingKey }), "kept while the URL lives");
    const { events } = await runSweep(server, { now: new Date(Date.now() + 3600_000), jobs: ["staging"] });
    assert.ok(events.some((e) => e.job === "staging" && e.action === "deleted" && e.key === stagingKey), JSON.stringify(events));
    assert.equal(await server.runtime.driver.stat({ bucket: "private", key: stagingKey }), undefined);
    assert.deepEqual(await served(up.key), PNG);
    const view = (await server.api("GET", `/v1/uploads/${up.id}`, { as: "ava" })).json();
    assert.equal(view.status, "confirmed");
  });

  it("caps pending uploads per user with a clear code, and gives reservations back when URLs expire", async () => {
    const capped = await startStowage({
      ...backend.database.env,
      ...(backend.s3 === undefined ? {} : stowageS3Env(backend.s3.media, backend.s3.compliance)),
      STOWAGE_MAX_PENDING_UPLOADS: "2",
      STOWAGE_DEFAULT_QUOTA_BYTES: String(3 * PDF.length),
    });
    try {
      const presignPdf = () => presign(capped, "busy", { contentType: "application/pdf", size: PDF.length });
      assert.equal((await presignPdf()).status, 201);
      assert.equal((await presignPdf()).status, 201);
      const third = await presignPdf();
      assert.equal(third.status, 429);
      assert.equal(third.json().error.code, "TOO_MANY_PENDING_UPLOADS");
      assert.deepEqual(third.json().error.details, { pendingUploads: 2, maxPendingUploads: 2 });
      const quota = (await capped.api("GET", "/v1/quota", { as: "busy" })).json();
      assert.deepEqual([quota.reservedBytes, quota.pendingUploads], [2 * PDF.length, 2]);
      const { events } = await runSweep(capped, { now: new Date(Date.now() + 3600_000), jobs: ["reservations"] });
      assert.equal(events.filter((e) => e.action === "released").length, 2);
      const released = (await capped.api("GET", "/v1/quota", { as: "busy" })).json();
      assert.deepEqual([released.reservedBytes, released.pendingUploads], [0, 0]);
    } finally {
      await capped.close();
    }
  });
});

describe("upload methods that cannot be made single-use on S3", () => {
  let bucket: Awaited<ReturnType<typeof tempBucket>>;
  before(async () => {
    bucket = await tempBucket("stowage-methods");
  });
  after(async () => bucket.drop());

  it("offers no POST forms unless asked to", async () => {
    const server = await startStowage(stowageS3Env(bucket.name));
    try {
      const res = await presign(server, "poster", { contentType: "application/pdf", size: PDF.length, method: "POST" });
      assert.equal(res.status, 400);
      assert.equal(res.json().error.code, "INVALID_REQUEST");
    } finally {
      await server.close();
    }
  });

  it("takes every upload in parts where the store has no conditional writes, so no URL works after confirm", async () => {
    const server = await startStowage({ ...stowageS3Env(bucket.name), STOWAGE_S3_CONDITIONAL_WRITES: "false" });
    try {
      const res = await presign(server, "plain", { contentType: "application/pdf", size: PDF.length });
      const up = res.json();
      assert.equal(up.url, undefined, "no single PUT URL");
      assert.deepEqual([up.multipart.partCount, up.multipart.parts[0].headers["Content-Length"]], [1, String(PDF.length)]);
      const put = await putPresigned(up.multipart.parts[0], PDF);
      assert.equal(put.status, 200);
      const parts = [{ partNumber: 1, etag: String(put.headers.etag) }];
      assert.equal((await server.api("POST", `/v1/uploads/${up.id}/complete`, { as: "plain", body: { parts } })).status, 200);
      assert.equal((await confirm(server, "plain", up.id)).status, 200);
      const replay = await putPresigned(up.multipart.parts[0], Buffer.from(PDF).fill(0x41, 10));
      assert.equal(replay.status, 404, "NoSuchUpload: the multipart upload is over");
      assert.deepEqual(await storedBytes(server.runtime.driver, { bucket: "private", key: up.key, length: PDF.length }), PDF);
    } finally {
      await server.close();
    }
  });
});

describe("DELETE while the store is down (Ceph RGW)", () => {
  let bucket: Awaited<ReturnType<typeof tempBucket>>;
  let outage: Awaited<ReturnType<typeof relay>>;
  let server: TestServer;
  before(async () => {
    bucket = await tempBucket("stowage-delete");
    outage = await relay(new URL(s3Env().endpoint), await freePort());
    server = await startStowage({ ...stowageS3Env(bucket.name), STOWAGE_S3_ENDPOINT: `http://127.0.0.1:${outage.port}` });
  });
  after(async () => {
    await server.close();
    await outage.cut();
    await bucket.drop();
  });

  it("answers 503 with Retry-After and changes nothing; once the store is back, 204 means the bytes are gone", async () => {
    const up = await presignAndPut(server, "dora", PDF, { contentType: "application/pdf" });
    assert.equal((await confirm(server, "dora", up.id)).status, 200);
    await outage.cut();
    try {
      for (let i = 0; i < 2; i++) {
        const res = await server.api("DELETE", `/v1/uploads/${up.id}`, { as: "dora" });
        assert.equal(res.status, 503);
        assert.equal(res.json().error.code, "STORAGE_UNAVAILABLE");
        assert.ok(res.headers["retry-after"]);
      }
      assert.equal((await server.api("GET", `/v1/uploads/${up.id}`, { as: "dora" })).json().status, "confirmed");
      assert.equal((await server.api("GET", "/v1/quota", { as: "dora" })).json().usedBytes, PDF.length);
    } finally {
      await outage.restore();
    }
    assert.ok(await server.runtime.driver.stat({ bucket: "private", key: up.key }), "still stored: nothing changed");
    assert.equal((await server.api("DELETE", `/v1/uploads/${up.id}`, { as: "dora" })).status, 204);
    assert.equal(await server.runtime.driver.stat({ bucket: "private", key: up.key }), undefined);
    assert.equal((await server.api("GET", "/v1/quota", { as: "dora" })).json().usedBytes, 0);
  });
});

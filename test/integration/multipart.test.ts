import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { confirm } from "../helpers/flow.js";
import { putPresigned, rawRequest } from "../helpers/http.js";
import { stowageS3Env, tempBucket } from "../helpers/s3.js";
import { startStowage, type TestServer } from "../helpers/server.js";

const MiB = 1024 * 1024;
const MP4_HEADER = Buffer.from("00000018667479706973736f0000020069736f6d69736f32", "hex");

/** A policy that goes multipart from 5 MiB, in a config file of its own. */
function configFile(): string {
  const dir = mkdtempSync(join(tmpdir(), "stowage-mp-"));
  const file = join(dir, "stowage.config.json");
  writeFileSync(file, JSON.stringify({
    policies: {
      video: {
        allowedTypes: ["video/mp4"], maxBytes: 1024 * MiB, urlTtlSeconds: 300, multipartThresholdBytes: 5 * MiB,
        keyTemplate: "videos/{userId}/{id}.{ext}", bucket: "private", visibility: "private",
      },
    },
  }));
  return file;
}

const backends: [string, () => Promise<{ env: Record<string, string>; done: () => Promise<void> }>][] = [
  ["local disk", async () => ({ env: {}, done: async () => undefined })],
  ["S3 (Ceph RGW)", async () => {
    const bucket = await tempBucket("stowage-mp");
    return { env: stowageS3Env(bucket.name), done: () => bucket.drop() };
  }],
];

for (const [name, backend] of backends) {
  describe(`multipart uploads on ${name}`, () => {
    let server: TestServer;
    let done: () => Promise<void>;
    const body = Buffer.concat([MP4_HEADER, randomBytes(12 * MiB + 3 - MP4_HEADER.length)]);
    before(async () => {
      const b = await backend();
      done = b.done;
      server = await startStowage({ ...b.env, STOWAGE_CONFIG_FILE: configFile(), STOWAGE_DEFAULT_QUOTA_BYTES: String(1024 * MiB) });
    });
    after(async () => {
      await server.close();
      await done();
    });

    const start = async () => {
      const res = await server.api("POST", "/v1/uploads", {
        as: "vid",
        body: { ownerType: "video", filename: "clip.mp4", contentType: "video/mp4", size: body.length },
      });
      assert.equal(res.status, 201, res.body.toString());
      return res.json();
    };
    const slice = (partNumber: number, partSize: number) => body.subarray((partNumber - 1) * partSize, partNumber * partSize);

    it("lists the parts already stored, so a client resumes by sending only the others", async () => {
      const up = await start();
      const listed = async (as = "vid") => server.api("GET", `/v1/uploads/${up.id}/parts`, { as });
      assert.deepEqual((await listed()).json(), { partSize: 5 * MiB, partCount: 3, parts: [] });
      const first = await putPresigned(up.multipart.parts[0], slice(1, up.multipart.partSize));
      const third = await putPresigned(up.multipart.parts[2], slice(3, up.multipart.partSize));
      const md5 = (n: number) => `"${createHash("md5").update(slice(n, up.multipart.partSize)).digest("hex")}"`;
      assert.deepEqual((await listed()).json().parts, [
        { partNumber: 1, etag: first.headers.etag, size: 5 * MiB },
        { partNumber: 3, etag: third.headers.etag, size: 2 * MiB + 3 },
      ]);
      assert.equal(first.headers.etag, md5(1));
      assert.equal((await listed("intruder")).status, 404, "another user's upload is not found");

      // "After a reload": the missing part only, then complete with every ETag the listing gave.
      await putPresigned(up.multipart.parts[1], slice(2, up.multipart.partSize));
      type Listed = { partNumber: number; etag: string };
      const parts = (await listed()).json().parts.map((p: Listed) => ({ partNumber: p.partNumber, etag: p.etag }));
      assert.equal(parts.length, 3);
      assert.equal((await server.api("POST", `/v1/uploads/${up.id}/complete`, { as: "vid", body: { parts } })).status, 200);
      assert.equal((await confirm(server, "vid", up.id)).status, 200);
      const settled = await listed();
      assert.equal(settled.status, 409);
      assert.equal(settled.json().error.code, "UPLOAD_NOT_PENDING");
    });

    it("uploads in equal parts, re-signs on demand, completes and confirms", async () => {
      const up = await start();
      assert.equal(up.url, undefined);
      assert.deepEqual([up.multipart.partSize, up.multipart.partCount], [5 * MiB, 3]);
      assert.deepEqual(up.multipart.parts.map((p: { partNumber: number }) => p.partNumber), [1, 2, 3]);
      assert.deepEqual(up.multipart.parts.map((p: { headers: Record<string, string> }) => p.headers["Content-Length"]), [
        String(5 * MiB), String(5 * MiB), String(2 * MiB + 3),
      ]);

      const etags: string[] = [];
      for (const part of up.multipart.parts) {
        const res = await putPresigned(part, slice(part.partNumber, up.multipart.partSize));
        assert.equal(res.status, 200, res.body.toString());
        etags.push(String(res.headers.etag));
      }
      // A part URL that expired (or got lost) is simply signed again; re-sending a part replaces it.
      const again = await server.api("POST", `/v1/uploads/${up.id}/parts`, { as: "vid", body: { partNumbers: [2] } });
      assert.equal(again.status, 200);
      const resent = await putPresigned(again.json().parts[0], slice(2, up.multipart.partSize));
      assert.equal(resent.status, 200);
      etags[1] = String(resent.headers.etag);

      const wrongLength = await putPresigned(again.json().parts[0], slice(2, up.multipart.partSize).subarray(1), {
        "Content-Length": String(5 * MiB - 1),
      });
      assert.equal(wrongLength.status, 403, "a part of another length is refused by the store");

      assert.equal((await confirm(server, "vid", up.id)).status, 422, "nothing to confirm before complete");
      const bad = await server.api("POST", `/v1/uploads/${up.id}/complete`, {
        as: "vid",
        body: { parts: [{ partNumber: 1, etag: etags[0] }, { partNumber: 2, etag: etags[1] }] },
      });
      assert.equal(bad.status, 400, "every part must be listed");
      const parts = etags.map((etag, i) => ({ partNumber: i + 1, etag }));
      const completed = await server.api("POST", `/v1/uploads/${up.id}/complete`, { as: "vid", body: { parts } });
      assert.equal(completed.status, 200, completed.body.toString());
      const twice = await server.api("POST", `/v1/uploads/${up.id}/complete`, { as: "vid", body: { parts } });
      assert.equal(twice.status, 200, "completing again is harmless");

      const confirmed = await confirm(server, "vid", up.id);
      assert.equal(confirmed.status, 200, confirmed.body.toString());
      assert.equal(confirmed.json().size, body.length);
      const downloaded = await rawRequest(confirmed.json().url);
      assert.equal(downloaded.status, 200);
      assert.equal(createHash("sha256").update(downloaded.body).digest("hex"), createHash("sha256").update(body).digest("hex"));
    });

    it("refuses a wrong part ETag and part numbers outside the plan", async () => {
      const up = await start();
      const etags = [];
      for (const part of up.multipart.parts) {
        etags.push(String((await putPresigned(part, slice(part.partNumber, up.multipart.partSize))).headers.etag));
      }
      const wrong = etags.map((etag, i) => ({ partNumber: i + 1, etag: i === 1 ? "\"00000000000000000000000000000000\"" : etag }));
      const res = await server.api("POST", `/v1/uploads/${up.id}/complete`, { as: "vid", body: { parts: wrong } });
      assert.equal(res.status, 400, res.body.toString());
      const outside = await server.api("POST", `/v1/uploads/${up.id}/parts`, { as: "vid", body: { partNumbers: [4] } });
      assert.equal(outside.status, 400);
      assert.equal((await server.api("DELETE", `/v1/uploads/${up.id}`, { as: "vid" })).status, 204);
    });

    it("aborts the store's multipart upload when a pending upload is deleted", async () => {
      const up = await start();
      const first = up.multipart.parts[0];
      assert.equal((await putPresigned(first, slice(1, up.multipart.partSize))).status, 200);
      assert.equal((await server.api("DELETE", `/v1/uploads/${up.id}`, { as: "vid" })).status, 204);
      const late = await putPresigned(first, slice(1, up.multipart.partSize));
      assert.ok(late.status === 404 || late.status === 410, `a part after abort: ${late.status}`);
      const sign = await server.api("POST", `/v1/uploads/${up.id}/parts`, { as: "vid", body: { partNumbers: [1] } });
      assert.equal(sign.status, 409);
    });
  });
}

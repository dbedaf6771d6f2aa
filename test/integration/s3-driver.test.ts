import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { Readable } from "node:stream";
import { describe, it } from "node:test";
import { CompleteMultipartUploadCommand, CreateMultipartUploadCommand, UploadPartCommand } from "@aws-sdk/client-s3";
import { isStowageError } from "../../src/errors.js";
import { runDriverContract } from "../contract/driver-contract.js";
import { adminClient, s3Driver, tempBucket } from "../helpers/s3.js";
import { storedBytes } from "../helpers/stored.js";

const MiB = 1024 * 1024;

// The same contract the local driver passes, against a real S3 server (Ceph RGW) that checks
// SigV4 for real: the presigned-URL refusals here come from the store itself.
runDriverContract("S3 (Ceph RADOS Gateway)", async () => {
  const bucket = await tempBucket();
  const driver = s3Driver({ media: { name: bucket.name, public: false } });
  return { driver, bucket: "media", close: () => bucket.drop() };
});

describe("S3 copies of objects too large for CopyObject", () => {
  it("copies in parts (UploadPartCopy), checked against the source's ETag", async () => {
    const bucket = await tempBucket();
    // The part copy takes over above 5 GiB; lowered here so a 12 MiB object goes through it.
    const driver = s3Driver({ media: { name: bucket.name, public: false } }, { copyInPartsFromBytes: 5 * MiB, copyPartBytes: 5 * MiB });
    try {
      const body = randomBytes(12 * MiB + 17);
      const source = await driver.put({ bucket: "media", key: "big/source", body: Readable.from([body]), contentType: "video/mp4", contentLength: body.length });
      const copied = await driver.copy({
        from: { bucket: "media", key: "big/source" },
        to: { bucket: "media", key: "big/target" },
        size: body.length,
        contentType: "video/mp4",
        cacheControl: "private, max-age=60",
        ifMatch: source.etag,
      });
      assert.equal(copied.size, body.length);
      assert.equal(copied.contentType, "video/mp4");
      const head = await storedBytes(driver, { bucket: "media", key: "big/target", length: body.length });
      assert.equal(createHash("md5").update(head).digest("hex"), createHash("md5").update(body).digest("hex"));
      await assert.rejects(
        driver.copy({ from: { bucket: "media", key: "big/source" }, to: { bucket: "media", key: "big/other" }, size: body.length, contentType: "video/mp4", cacheControl: "x", ifMatch: "\"stale\"" }),
        (error) => isStowageError(error) && error.code === "UPLOAD_CHANGED",
      );
      assert.equal(await driver.stat({ bucket: "media", key: "big/other" }), undefined);
    } finally {
      await bucket.drop();
    }
  });
});

describe("S3 copy of a multipart object (a completed multipart upload being confirmed)", () => {
  it("answers the ETag and size a HEAD of the copy gives", async () => {
    const bucket = await tempBucket();
    const driver = s3Driver({ media: { name: bucket.name, public: false } });
    const s3 = adminClient();
    try {
      const parts = [randomBytes(5 * MiB), randomBytes(1234)];
      const Key = "multi/source";
      const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket.name, Key, ContentType: "video/mp4" }));
      const etags = [];
      for (const [i, Body] of parts.entries()) {
        etags.push((await s3.send(new UploadPartCommand({ Bucket: bucket.name, Key, UploadId, PartNumber: i + 1, Body }))).ETag);
      }
      await s3.send(new CompleteMultipartUploadCommand({
        Bucket: bucket.name, Key, UploadId, MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) },
      }));
      const source = await driver.stat({ bucket: "media", key: Key });
      assert.match(source?.etag ?? "", /-2"$/, "a multipart ETag");
      const size = parts.reduce((sum, part) => sum + part.length, 0);
      const copied = await driver.copy({ from: { bucket: "media", key: Key }, to: { bucket: "media", key: "multi/target" }, size, contentType: "video/mp4", cacheControl: "private", ifMatch: source?.etag });
      const stat = await driver.stat({ bucket: "media", key: "multi/target" });
      assert.deepEqual({ size: copied.size, etag: copied.etag }, { size: stat?.size, etag: stat?.etag });
    } finally {
      s3.destroy();
      await bucket.drop();
    }
  });
});

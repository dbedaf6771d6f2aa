import assert from "node:assert/strict";
import { createHash, randomBytes, randomUUID } from "node:crypto";
import { Readable } from "node:stream";
import { after, before, describe, it } from "node:test";
import { isStowageError } from "../../src/errors.js";
import type { StorageDriver } from "../../src/storage/driver.js";
import { putPresigned, rawRequest } from "../helpers/http.js";
import { storedBytes } from "../helpers/stored.js";

export interface DriverFixture {
  driver: StorageDriver;
  /** A bucket that exists and is writable. */
  bucket: string;
  close(): Promise<void>;
}

const CACHE = "private, max-age=60";
const md5 = (body: Buffer) => createHash("md5").update(body).digest("base64");

/**
 * The storage contract, run unchanged against every driver: whatever a driver is (local disk,
 * S3), Stowage relies on exactly these behaviours. Presigned URLs are exercised over real HTTP.
 */
export function runDriverContract(name: string, makeFixture: () => Promise<DriverFixture>): void {
  describe(`StorageDriver contract: ${name}`, () => {
    let fx: DriverFixture;
    let driver: StorageDriver;
    let bucket: string;
    const prefix = `contract/${randomUUID()}/`;
    const key = (leaf: string) => `${prefix}${leaf}`;
    const put = (k: string, body: Buffer, contentType = "application/octet-stream") =>
      driver.put({
        bucket,
        key: k,
        body: Readable.from([body]),
        contentType,
        contentLength: body.length,
        cacheControl: CACHE,
      });

    before(async () => {
      fx = await makeFixture();
      driver = fx.driver;
      bucket = fx.bucket;
    });
    after(async () => fx.close());

    it("stores an object and stats its size, type and etag", async () => {
      const body = Buffer.from("hello contract");
      await put(key("a.txt"), body, "text/plain");
      const stat = await driver.stat({ bucket, key: key("a.txt") });
      assert.ok(stat);
      assert.equal(stat.size, body.length);
      assert.equal(stat.contentType, "text/plain");
      assert.ok(stat.etag.length > 0);
      assert.ok(stat.lastModified instanceof Date);
    });

    it("answers undefined for a missing object", async () => {
      assert.equal(await driver.stat({ bucket, key: key("missing") }), undefined);
    });

    it("never overwrites a key", async () => {
      await put(key("once"), Buffer.from("first"));
      await assert.rejects(
        put(key("once"), Buffer.from("second!")),
        (e) => isStowageError(e) && e.code === "OBJECT_EXISTS",
      );
      const head = await storedBytes(driver, { bucket, key: key("once"), length: 100 });
      assert.equal(Buffer.from(head).toString(), "first");
    });

    it("refuses a body that does not match the declared length", async () => {
      await assert.rejects(
        driver.put({
          bucket,
          key: key("short"),
          body: Readable.from([Buffer.from("abc")]),
          contentType: "text/plain",
          contentLength: 10,
        }),
      );
      assert.equal(
        await driver.stat({ bucket, key: key("short") }),
        undefined,
        "no partial object is left",
      );
    });

    it("refuses a body whose MD5 is not its contentMd5 (BAD_DIGEST), storing nothing; takes one that matches", async () => {
      const body = Buffer.from("checked bytes");
      const write = (k: string, bytes: Buffer) =>
        driver.put({ bucket, key: k, body: Readable.from([bytes]), contentType: "text/plain", contentLength: bytes.length, contentMd5: md5(body) });
      await assert.rejects(write(key("digest-bad"), Buffer.from("checked bytez")), (e) => isStowageError(e) && e.code === "BAD_DIGEST");
      assert.equal(await driver.stat({ bucket, key: key("digest-bad") }), undefined, "nothing stored");
      await write(key("digest-good"), body);
      assert.equal((await driver.stat({ bucket, key: key("digest-good") }))?.size, body.length);
    });

    it("reads the first bytes of an object, or all of a short one, with its stat from the same read", async () => {
      await put(key("head"), Buffer.from("0123456789"), "text/plain");
      assert.equal((await storedBytes(driver, { bucket, key: key("head"), length: 4 })).toString(), "0123");
      assert.equal((await storedBytes(driver, { bucket, key: key("head"), length: 4100 })).toString(), "0123456789");
      const head = await driver.readHead({ bucket, key: key("head"), length: 4 });
      const stat = await driver.stat({ bucket, key: key("head") });
      // The whole object's size, not the bytes read; confirm compares it with the declared size.
      assert.deepEqual(
        { size: head?.stat.size, etag: head?.stat.etag, contentType: head?.stat.contentType, time: head?.stat.lastModified.getTime() },
        { size: 10, etag: stat?.etag, contentType: "text/plain", time: stat?.lastModified.getTime() },
      );
      assert.equal(await driver.readHead({ bucket, key: key("no-such-object"), length: 4 }), undefined);
      await put(key("empty"), Buffer.alloc(0));
      const empty = await driver.readHead({ bucket, key: key("empty"), length: 4 });
      const emptyStat = await driver.stat({ bucket, key: key("empty") });
      assert.deepEqual(
        { size: empty?.stat.size, bytes: empty?.bytes.length, etag: empty?.stat.etag },
        { size: 0, bytes: 0, etag: emptyStat?.etag },
      );
    });

    it("streams a whole object out, only while it has the ETag asked for", async () => {
      const body = Buffer.concat([Buffer.from("whole-"), randomBytes(300_000)]);
      await put(key("read"), body);
      const stat = await driver.stat({ bucket, key: key("read") });
      const read = async (ifMatch?: string) => {
        const chunks: Buffer[] = [];
        for await (const chunk of await driver.read({ bucket, key: key("read"), ifMatch })) chunks.push(Buffer.from(chunk as Uint8Array));
        return Buffer.concat(chunks);
      };
      assert.deepEqual(await read(), body);
      assert.deepEqual(await read(stat?.etag), body);
      await assert.rejects(read("\"0123456789abcdef0123456789abcdef\""), (error) => isStowageError(error) && error.code === "UPLOAD_CHANGED");
      await assert.rejects(driver.read({ bucket, key: key("never-written") }), (error) => isStowageError(error) && error.code === "NOT_FOUND");
    });

    it("deletes an object, and deleting a missing one is fine", async () => {
      await put(key("gone"), Buffer.from("x"));
      await driver.delete({ bucket, key: key("gone") });
      assert.equal(await driver.stat({ bucket, key: key("gone") }), undefined);
      await driver.delete({ bucket, key: key("gone") });
    });

    it("copies an object with the type and cache-control given, leaving the source as it was", async () => {
      const body = Buffer.from("to be promoted");
      const source = await put(key("copy/source"), body, "text/plain");
      const copied = await driver.copy({
        from: { bucket, key: key("copy/source") },
        to: { bucket, key: key("copy/target") },
        size: body.length,
        contentType: "application/pdf",
        cacheControl: "public, max-age=5",
        ifMatch: source.etag,
      });
      assert.equal(copied.size, body.length);
      assert.equal(copied.contentType, "application/pdf");
      // What the copy answers is what a stat of the copy says (confirm records that ETag).
      const stat = await driver.stat({ bucket, key: key("copy/target") });
      assert.deepEqual(
        { size: copied.size, etag: copied.etag, contentType: copied.contentType },
        { size: stat?.size, etag: stat?.etag, contentType: stat?.contentType },
      );
      assert.ok(Math.abs(copied.lastModified.getTime() - (stat?.lastModified.getTime() ?? 0)) < 1000, "the copy's time, to the second");
      assert.deepEqual(await storedBytes(driver, { bucket, key: key("copy/target"), length: 100 }), body);
      assert.equal((await driver.stat({ bucket, key: key("copy/source") }))?.contentType, "text/plain");
      // Copying onto its own earlier copy (a retried confirm) is harmless.
      await driver.copy({ from: { bucket, key: key("copy/source") }, to: { bucket, key: key("copy/target") }, size: body.length, contentType: "application/pdf", cacheControl: "public, max-age=5" });
    });

    it("refuses to copy a source whose ETag changed since it was checked (UPLOAD_CHANGED)", async () => {
      await put(key("copy/changed"), Buffer.from("first"));
      await assert.rejects(
        driver.copy({ from: { bucket, key: key("copy/changed") }, to: { bucket, key: key("copy/changed-target") }, size: 5, contentType: "text/plain", cacheControl: CACHE, ifMatch: "\"not-its-etag\"" }),
        (error) => isStowageError(error) && error.code === "UPLOAD_CHANGED",
      );
      assert.equal(await driver.stat({ bucket, key: key("copy/changed-target") }), undefined);
    });

    it("seals a key: whatever was there becomes empty, and a presigned conditional PUT to it then fails", async () => {
      const signed = await driver.presignPut({ bucket, key: key("sealed"), contentType: "text/plain", contentLength: 5, cacheControl: CACHE, expiresInSeconds: 60 });
      await driver.seal({ bucket, key: key("sealed") });
      assert.equal((await driver.stat({ bucket, key: key("sealed") }))?.size, 0);
      const res = await putPresigned(signed, Buffer.from("hello"));
      assert.equal(res.status, 412, res.body.toString());
      await put(key("sealed-full"), Buffer.from("bytes"));
      await driver.seal({ bucket, key: key("sealed-full") });
      assert.equal((await driver.stat({ bucket, key: key("sealed-full") }))?.size, 0);
    });

    it("lists the objects under a prefix, and only those", async () => {
      await put(key("list/one"), Buffer.from("1"));
      await put(key("list/sub/two"), Buffer.from("22"));
      await put(key("listing-other"), Buffer.from("3"));
      const found = [];
      for await (const info of driver.list({ bucket, prefix: key("list/") }))
        found.push([info.key, info.size]);
      found.sort();
      assert.deepEqual(found, [
        [key("list/one"), 1],
        [key("list/sub/two"), 2],
      ]);
    });

    it("accepts a presigned PUT sent with exactly its headers", async () => {
      const body = Buffer.from("presigned body");
      const signed = await driver.presignPut({
        bucket,
        key: key("signed"),
        contentType: "text/plain",
        contentLength: body.length,
        cacheControl: CACHE,
        expiresInSeconds: 60,
      });
      assert.equal(signed.method, "PUT");
      assert.ok(signed.expiresAt.getTime() > Date.now());
      const res = await putPresigned(signed, body);
      assert.equal(res.status, 200, res.body.toString());
      const stat = await driver.stat({ bucket, key: key("signed") });
      assert.equal(stat?.size, body.length);
      assert.equal(stat?.contentType, "text/plain");
    });

    for (const [what, override, body] of [
      ["another Content-Type", { "Content-Type": "image/png" }, "twelve bytes"],
      ["another Content-Length", { "Content-Length": "11" }, "eleven byte"],
      ["no Content-Type", { "Content-Type": null }, "twelve bytes"],
      ["another Cache-Control", { "Cache-Control": "public, max-age=31536000" }, "twelve bytes"],
      ["no Cache-Control", { "Cache-Control": null }, "twelve bytes"],
    ] as const) {
      it(`refuses a presigned PUT with ${what} (403 or 400)`, async () => {
        const k = key(`refused-${randomUUID()}`);
        const signed = await driver.presignPut({
          bucket,
          key: k,
          contentType: "text/plain",
          contentLength: 12,
          cacheControl: CACHE,
          expiresInSeconds: 60,
        });
        const res = await putPresigned(signed, Buffer.from(body), override);
        assert.ok(res.status === 403 || res.status === 400, `status ${res.status}`);
        assert.equal(await driver.stat({ bucket, key: k }), undefined);
      });
    }

    describe("a presigned PUT with a signed Content-MD5", () => {
      const body = Buffer.from("twelve bytes");
      const other = Buffer.from("twelve bytez");
      const signedMd5 = async (k: string) => {
        const signed = await driver.presignPut({
          bucket, key: k, contentType: "text/plain", contentLength: body.length, cacheControl: CACHE, expiresInSeconds: 60, contentMd5: md5(body),
        });
        assert.equal(signed.headers["Content-MD5"], md5(body), "the client is told to send it");
        return signed;
      };

      it("is accepted with the body it was signed for", async () => {
        const k = key(`md5-${randomUUID()}`);
        const res = await putPresigned(await signedMd5(k), body);
        assert.equal(res.status, 200, res.body.toString());
        assert.equal((await driver.stat({ bucket, key: k }))?.size, body.length);
      });

      it("refuses other bytes of the same length with 400 (BadDigest / BAD_DIGEST), storing nothing", async () => {
        const k = key(`md5-${randomUUID()}`);
        const res = await putPresigned(await signedMd5(k), other);
        assert.equal(res.status, 400, res.body.toString());
        assert.match(res.body.toString(), /BAD_?DIGEST/i);
        assert.equal(await driver.stat({ bucket, key: k }), undefined);
      });

      for (const [what, override] of [
        ["without the header", { "Content-MD5": null }],
        ["with the header changed to match other bytes", { "Content-MD5": md5(other) }],
        ["with a malformed header", { "Content-MD5": "not-an-md5" }],
      ] as const) {
        it(`refuses it ${what} (403), storing nothing`, async () => {
          const k = key(`md5-${randomUUID()}`);
          const res = await putPresigned(await signedMd5(k), override["Content-MD5"] === null ? body : other, override);
          assert.equal(res.status, 403, res.body.toString());
          assert.equal(await driver.stat({ bucket, key: k }), undefined);
        });
      }

      it("checks a Content-MD5 the URL did not sign all the same (a client may add one)", async () => {
        const k = key(`md5-${randomUUID()}`);
        const unsigned = await driver.presignPut({
          bucket, key: k, contentType: "text/plain", contentLength: body.length, cacheControl: CACHE, expiresInSeconds: 60,
        });
        assert.equal(unsigned.headers["Content-MD5"], undefined);
        const wrong = await putPresigned(unsigned, other, { "Content-MD5": md5(body) });
        assert.equal(wrong.status, 400, wrong.body.toString());
        assert.equal(await driver.stat({ bucket, key: k }), undefined);
        assert.equal((await putPresigned(unsigned, body, { "Content-MD5": md5(body) })).status, 200);
      });
    });

    it("refuses a presigned PUT to another key", async () => {
      const signed = await driver.presignPut({
        bucket,
        key: key("mine"),
        contentType: "text/plain",
        contentLength: 4,
        cacheControl: CACHE,
        expiresInSeconds: 60,
      });
      const res = await putPresigned(
        { ...signed, url: signed.url.replace("/mine?", "/theirs?") },
        Buffer.from("evil"),
      );
      assert.equal(res.status, 403);
      assert.equal(await driver.stat({ bucket, key: key("theirs") }), undefined);
    });

    it("refuses an expired presigned PUT", async () => {
      const signed = await driver.presignPut({
        bucket,
        key: key("late"),
        contentType: "text/plain",
        contentLength: 4,
        cacheControl: CACHE,
        expiresInSeconds: 1,
      });
      await new Promise((resolve) => setTimeout(resolve, 2100));
      const res = await putPresigned(signed, Buffer.from("late"));
      assert.equal(res.status, 403);
      assert.equal(await driver.stat({ bucket, key: key("late") }), undefined);
    });

    it("serves a presigned GET with the requested Content-Disposition", async () => {
      await put(key("download.bin"), Buffer.from("download me"));
      const disposition = `attachment; filename="resume.txt"; filename*=UTF-8''r%C3%A9sum%C3%A9.txt`;
      const signed = await driver.presignGet({
        bucket,
        key: key("download.bin"),
        expiresInSeconds: 60,
        contentDisposition: disposition,
      });
      const res = await rawRequest(signed.url);
      assert.equal(res.status, 200);
      assert.equal(res.body.toString(), "download me");
      assert.equal(res.headers["content-disposition"], disposition);
    });

    it("names the origin of every URL it hands out among its browser origins (a page's CSP allows exactly those)", async () => {
      const origins = driver.browserOrigins();
      const ref = { bucket, key: key("origin"), expiresInSeconds: 60 };
      const upload = await driver.presignPut({ ...ref, contentType: "text/plain", contentLength: 1, cacheControl: CACHE });
      const download = await driver.presignGet(ref);
      for (const url of [upload.url, download.url]) assert.ok(origins.includes(new URL(url).origin), `${url} not in ${origins.join(", ")}`);
      for (const origin of origins) assert.equal(new URL(origin).origin, origin);
    });

    it("refuses a presigned GET whose disposition was changed", async () => {
      await put(key("download2.bin"), Buffer.from("x"));
      const signed = await driver.presignGet({
        bucket,
        key: key("download2.bin"),
        expiresInSeconds: 60,
        contentDisposition: "attachment",
      });
      const res = await rawRequest(signed.url.replace("attachment", "inline"));
      assert.equal(res.status, 403);
    });
  });
}

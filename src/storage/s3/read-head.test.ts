import assert from "node:assert/strict";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { isStowageError } from "../../errors.js";
import { S3Driver } from "./s3-driver.js";

/**
 * What `readHead` does with answers a real store may give but RGW never does (it honours ranges
 * and names the size), from a stand-in HTTP server: the answer each key gets is fixed below.
 */
describe("S3Driver.readHead against answers RGW never gives", () => {
  const WHOLE = Buffer.alloc(1024 * 1024, 7);
  let server: Server;
  let driver: S3Driver;
  let connections = 0;
  const answers: Record<string, (res: ServerResponse) => void> = {
    "/b/ranged": (res) => {
      res.writeHead(206, { "content-range": "bytes 0-9/100", "content-length": "10", etag: "\"r\"", "content-type": "image/png" });
      res.end(Buffer.alloc(10, 1));
    },
    "/b/range-ignored": (res) => {
      res.writeHead(200, { "content-length": String(WHOLE.length), etag: "\"w\"" });
      res.end(WHOLE);
    },
    "/b/no-size": (res) => {
      res.writeHead(206, { "content-range": "bytes 0-9/*", "content-length": "10", etag: "\"n\"" });
      res.end(Buffer.alloc(10));
    },
    "/b/cut": (res) => {
      res.writeHead(206, { "content-range": "bytes 0-9/100", "content-length": "10", etag: "\"c\"" });
      res.write(Buffer.alloc(5));
      setTimeout(() => res.socket?.destroy(), 20);
    },
  };

  before(async () => {
    server = createServer((req: IncomingMessage, res: ServerResponse) => {
      const answer = answers[(req.url ?? "").split("?")[0] ?? ""];
      if (answer === undefined) {
        res.writeHead(404).end();
        return;
      }
      answer(res);
    });
    server.on("connection", () => connections++);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    driver = new S3Driver({
      endpoint: `http://127.0.0.1:${port}`,
      region: "us-east-1",
      forcePathStyle: true,
      credentials: { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY" },
      buckets: { media: { name: "b", public: false } },
      postPolicy: false,
      conditionalWrites: true,
      maxAttempts: 1,
    });
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it("takes the size from Content-Range and reads the ranged body to its end, so its connection is reused", async () => {
    const before = connections;
    for (let i = 0; i < 3; i++) {
      const head = await driver.readHead({ bucket: "media", key: "ranged", length: 10 });
      assert.deepEqual({ size: head?.stat.size, etag: head?.stat.etag, bytes: head?.bytes.length }, { size: 100, etag: "\"r\"", bytes: 10 });
    }
    assert.equal(connections - before, 1, "one keep-alive connection for three reads");
  });

  it("reads only the first bytes of a store that ignored the range, and takes the whole body's length as the size", async () => {
    const head = await driver.readHead({ bucket: "media", key: "range-ignored", length: 4100 });
    assert.deepEqual({ size: head?.stat.size, bytes: head?.bytes.length }, { size: WHOLE.length, bytes: 4100 });
  });

  it("refuses a ranged answer that does not name the object's size (STORAGE_UNAVAILABLE), rather than guess it", async () => {
    await assert.rejects(driver.readHead({ bucket: "media", key: "no-size", length: 10 }), (e) => isStowageError(e) && e.code === "STORAGE_UNAVAILABLE");
  });

  it("maps a connection cut mid-body to STORAGE_UNAVAILABLE (a 503 the client may retry), not an internal error", async () => {
    await assert.rejects(driver.readHead({ bucket: "media", key: "cut", length: 10 }), (e) => isStowageError(e) && e.code === "STORAGE_UNAVAILABLE");
  });

  it("answers undefined for a missing object", async () => {
    assert.equal(await driver.readHead({ bucket: "media", key: "missing", length: 10 }), undefined);
  });
});

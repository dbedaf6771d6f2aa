import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import sharp from "sharp";
import { confirm, presignAndPut } from "../helpers/flow.js";
import { rawRequest } from "../helpers/http.js";
import { noisyJpeg, pngHeaderBomb } from "../helpers/images.js";
import { s3Env, tempBucket, type TempBucket } from "../helpers/s3.js";
import { startStowage, type TestServer } from "../helpers/server.js";

interface View {
  status: string;
  derivatives?: { name: string; url: string; width: number; height: number; contentType: string }[];
}

/** Avatar thumbnails made after confirm (the built-in `thumb` preset), on local disk and on RGW. */
const SETUPS: [string, () => Promise<{ server: TestServer; drop: () => Promise<void> }>][] = [
  ["local disk", async () => {
    const server = await startStowage({ STOWAGE_EVENTS_POLL_MS: "50" });
    return { server, drop: () => server.close() };
  }],
  ["Ceph RGW", async () => {
    const env = s3Env();
    const buckets: TempBucket[] = [await tempBucket("stowage-thumbs"), await tempBucket("stowage-thumbs-c")];
    const server = await startStowage({
      STOWAGE_STORAGE: "s3",
      STOWAGE_S3_ENDPOINT: env.endpoint,
      STOWAGE_S3_ACCESS_KEY_ID: env.accessKeyId,
      STOWAGE_S3_SECRET_ACCESS_KEY: env.secretAccessKey,
      STOWAGE_S3_REGION: env.region,
      STOWAGE_S3_BUCKET: buckets[0]?.name ?? "",
      STOWAGE_S3_COMPLIANCE_BUCKET: buckets[1]?.name ?? "",
      STOWAGE_EVENTS_POLL_MS: "50",
    });
    return {
      server,
      drop: async () => {
        await server.close();
        for (const bucket of buckets) await bucket.drop();
      },
    };
  }],
];

for (const [name, setup] of SETUPS) describe(`derivatives on ${name}`, () => {
  let server: TestServer;
  let drop: () => Promise<void>;
  before(async () => ({ server, drop } = await setup()));
  after(() => drop());

  const view = async (user: string, id: string) => (await server.api("GET", `/v1/uploads/${id}`, { as: user })).json<View>();

  it("a confirmed JPEG avatar gets a 256×256 WebP thumbnail without metadata; deleting the avatar deletes it", async () => {
    const photo = await sharp(await noisyJpeg(1200, 800)).withExif({ IFD0: { Make: "Stowage Test Camera" } }).jpeg().toBuffer();
    const up = await presignAndPut(server, "alice", photo, { ownerType: "avatar", contentType: "image/jpeg", filename: "me.jpg" });
    assert.equal((await confirm(server, "alice", up.id)).status, 200);
    let upload = await view("alice", up.id);
    for (let i = 0; i < 200 && upload.derivatives === undefined; i++) {
      await sleep(50);
      upload = await view("alice", up.id);
    }
    const thumb = upload.derivatives?.[0] ?? assert.fail("no derivative after 10 s");
    assert.deepEqual({ ...thumb, url: undefined }, { name: "thumb", url: undefined, width: 256, height: 256, contentType: "image/webp" });
    const gql = await server.api("POST", "/graphql", {
      as: "alice",
      body: { query: `{ upload(id: "${up.id}") { derivatives { name width height contentType url } } }` },
    });
    assert.deepEqual(gql.json<{ data: { upload: { derivatives: unknown[] } } }>().data.upload.derivatives, [thumb]);
    const [record] = await server.runtime.store.derivatives.listFor([up.id]);
    assert.ok(record !== undefined && !record.key.includes("me.jpg"));
    // What is stored (a public bucket on RGW here has no anonymous read; the local one serves its URL).
    const chunks: Buffer[] = [];
    for await (const chunk of await server.runtime.driver.read(record)) chunks.push(chunk as Buffer);
    const meta = await sharp(Buffer.concat(chunks)).metadata();
    assert.deepEqual([meta.format, meta.width, meta.height, meta.exif], ["webp", 256, 256, undefined]);
    if (server.config.storage.kind === "local") {
      const served = await rawRequest(thumb.url);
      assert.equal(served.status, 200);
      assert.deepEqual(served.body, Buffer.concat(chunks));
    }

    assert.equal((await server.api("DELETE", `/v1/uploads/${up.id}`, { as: "alice" })).status, 204);
    assert.equal(await server.runtime.driver.stat({ bucket: record.bucket, key: record.key }), undefined);
  });

  it("a PNG declaring 30000×30000 pixels: the thumbnail fails (recorded), the upload stays confirmed", async () => {
    const bomb = pngHeaderBomb(30000, 30000);
    const up = await presignAndPut(server, "bob", bomb, { ownerType: "avatar", contentType: "image/png", filename: "bomb.png" });
    assert.equal((await confirm(server, "bob", up.id)).status, 200);
    let records = await server.runtime.store.derivatives.listFor([up.id]);
    for (let i = 0; i < 200 && records.length === 0; i++) {
      await sleep(50);
      records = await server.runtime.store.derivatives.listFor([up.id]);
    }
    assert.equal(records[0]?.state, "failed");
    assert.match(records[0]?.error ?? "", /^IMAGE_TOO_LARGE/);
    const upload = await view("bob", up.id);
    assert.equal(upload.status, "confirmed");
    assert.equal(upload.derivatives, undefined);
  });
});

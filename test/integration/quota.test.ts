import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { PDF } from "../helpers/fixtures.js";
import { confirm, type Presigned, presign, presignAndPut } from "../helpers/flow.js";
import { DATABASES, type TestDatabase } from "../helpers/databases.js";
import { startStowage, type TestServer } from "../helpers/server.js";

const LIMIT = 1000;
const pdfOf = (size: number) => Buffer.concat([PDF, Buffer.alloc(size - PDF.length, 0x20)]);

for (const [name, makeDatabase] of DATABASES) describe(`quotas on ${name}`, () => {
  let server: TestServer;
  let database: TestDatabase;
  before(async () => {
    database = await makeDatabase();
    server = await startStowage({ ...database.env, STOWAGE_DEFAULT_QUOTA_BYTES: String(LIMIT) });
  });
  after(async () => {
    await server.close();
    await database.drop();
  });

  const used = async (user: string) =>
    (await server.api("GET", "/v1/quota", { as: user })).json().usedBytes as number;

  it("lets exactly the confirms that fit win a race for the last bytes", async () => {
    // 12 uploads of 300 bytes race for 1000 bytes: exactly 3 fit.
    const uploads: Presigned[] = [];
    for (let i = 0; i < 12; i++)
      uploads.push(
        await presignAndPut(server, "racer", pdfOf(300), { contentType: "application/pdf" }),
      );
    const results = await Promise.all(uploads.map((u) => confirm(server, "racer", u.id)));
    const won = results.filter((r) => r.status === 200);
    const lost = results.filter((r) => r.status === 413);
    assert.equal(won.length, 3);
    assert.equal(lost.length, 9);
    for (const res of lost) {
      const { code, details } = res.json().error;
      assert.equal(code, "QUOTA_EXCEEDED");
      assert.equal(details.limitBytes, LIMIT);
      assert.equal(details.rejectedBytes, 300);
      assert.ok(details.usedBytes + 300 > LIMIT);
    }
    assert.equal(await used("racer"), 900, "usedBytes exact");
    for (const [i, res] of results.entries()) {
      const upload = uploads[i] as Presigned;
      const onDisk = existsSync(join(server.dataDir, "storage", "objects", "private", upload.key));
      assert.equal(onDisk, res.status === 200, "refused objects are deleted, accepted ones kept");
    }
  });

  it("charges once when the same upload is confirmed many times at once", async () => {
    const up = await presignAndPut(server, "repeat", pdfOf(400), {
      contentType: "application/pdf",
    });
    const results = await Promise.all(
      Array.from({ length: 10 }, () => confirm(server, "repeat", up.id)),
    );
    assert.deepEqual(new Set(results.map((r) => r.status)), new Set([200]));
    assert.equal(await used("repeat"), 400);
  });

  it("refuses at presign when the file clearly cannot fit", async () => {
    const first = await presignAndPut(server, "early", pdfOf(800), {
      contentType: "application/pdf",
    });
    assert.equal((await confirm(server, "early", first.id)).status, 200);
    const res = await presign(server, "early", { contentType: "application/pdf", size: 300 });
    assert.equal(res.status, 413);
    assert.deepEqual(res.json().error.details, {
      usedBytes: 800,
      limitBytes: LIMIT,
      rejectedBytes: 300,
    });
  });

  it("honours a subject's own limit, above or below the default, at confirm", async () => {
    // A limit of its own above the default: a charge larger than the default fits.
    await database.exec(server, "insert into quotas (subject, used_bytes, limit_bytes, updated_at) values ('user:roomy', 0, 5000, 0)");
    const big = await presignAndPut(server, "roomy", pdfOf(2000), { contentType: "application/pdf" });
    assert.equal((await confirm(server, "roomy", big.id)).status, 200);
    assert.equal(await used("roomy"), 2000);
    // A limit lowered between presign and confirm: the confirm is refused and charges nothing.
    const late = await presignAndPut(server, "shrunk", pdfOf(800), { contentType: "application/pdf" });
    await database.exec(server, "insert into quotas (subject, used_bytes, limit_bytes, updated_at) values ('user:shrunk', 0, 500, 0)");
    const res = await confirm(server, "shrunk", late.id);
    assert.equal(res.status, 413);
    assert.equal(res.json().error.code, "QUOTA_EXCEEDED");
    assert.equal(await used("shrunk"), 0);
  });

  it("gives bytes back on delete, once, and never below zero", async () => {
    const a = await presignAndPut(server, "giver", pdfOf(500), { contentType: "application/pdf" });
    const b = await presignAndPut(server, "giver", pdfOf(200), { contentType: "application/pdf" });
    await confirm(server, "giver", a.id);
    await confirm(server, "giver", b.id);
    assert.equal(await used("giver"), 700);
    await Promise.all(
      [1, 2, 3].map(() => server.api("DELETE", `/v1/uploads/${a.id}`, { as: "giver" })),
    );
    assert.equal(await used("giver"), 200, "a racing double delete refunds once");

    // An operator reset the counter by hand: a later delete must not drive it negative.
    await database.exec(server, "update quotas set used_bytes = 50 where subject = 'user:giver'");
    assert.equal((await server.api("DELETE", `/v1/uploads/${b.id}`, { as: "giver" })).status, 204);
    assert.equal(await used("giver"), 0);
  });

  it("deleting a pending upload gives nothing back", async () => {
    const c = await presignAndPut(server, "pend", pdfOf(300), { contentType: "application/pdf" });
    await confirm(server, "pend", c.id);
    const p = await presign(server, "pend", { contentType: "application/pdf", size: 300 });
    assert.equal(
      (await server.api("DELETE", `/v1/uploads/${p.json().id}`, { as: "pend" })).status,
      204,
    );
    assert.equal(await used("pend"), 300);
  });
});

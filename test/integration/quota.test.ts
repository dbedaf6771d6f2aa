import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { PDF } from "../helpers/fixtures.js";
import { confirm, type Presigned, presign, presignAndPut } from "../helpers/flow.js";
import { putPresigned } from "../helpers/http.js";
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

  it("reserves at presign: of 12 presigns racing for 1000 bytes exactly 3 win, and all of them confirm", async () => {
    // 12 uploads of 300 bytes race for 1000 bytes: exactly 3 fit, decided before any byte moves.
    const results = await Promise.all(
      Array.from({ length: 12 }, () => presign(server, "racer", { contentType: "application/pdf", size: 300 })),
    );
    const won = results.filter((r) => r.status === 201);
    const lost = results.filter((r) => r.status === 413);
    assert.equal(won.length, 3);
    assert.equal(lost.length, 9);
    for (const res of lost) {
      const { code, details } = res.json().error;
      assert.equal(code, "QUOTA_EXCEEDED");
      assert.equal(details.limitBytes, LIMIT);
      assert.equal(details.rejectedBytes, 300);
      assert.equal(details.usedBytes + details.reservedBytes, 900);
    }
    const quota = (await server.api("GET", "/v1/quota", { as: "racer" })).json();
    assert.deepEqual([quota.usedBytes, quota.reservedBytes, quota.pendingUploads], [0, 900, 3]);
    for (const res of won) {
      const up = res.json<Presigned>();
      assert.equal((await putPresigned(up, pdfOf(300))).status, 200);
      assert.equal((await confirm(server, "racer", up.id)).status, 200, "a reserved upload always fits at confirm");
      assert.equal(existsSync(join(server.dataDir, "storage", "objects", "private", up.key)), true);
    }
    const after = (await server.api("GET", "/v1/quota", { as: "racer" })).json();
    assert.deepEqual([after.usedBytes, after.reservedBytes, after.pendingUploads], [900, 0, 0], "usage exact");
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
      reservedBytes: 0,
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
    // A limit of its own below the default: refused at presign, nothing reserved.
    await database.exec(server, "insert into quotas (subject, used_bytes, limit_bytes, updated_at) values ('user:shrunk', 0, 500, 0)");
    const res = await presign(server, "shrunk", { contentType: "application/pdf", size: 800 });
    assert.equal(res.status, 413);
    assert.equal(res.json().error.code, "QUOTA_EXCEEDED");
    const quota = (await server.api("GET", "/v1/quota", { as: "shrunk" })).json();
    assert.deepEqual([quota.usedBytes, quota.reservedBytes, quota.limitBytes], [0, 0, 500]);
    // A limit lowered after presign: the reservation was granted, and stands at confirm.
    const granted = await presignAndPut(server, "lowered", pdfOf(800), { contentType: "application/pdf" });
    await database.exec(server, "update quotas set limit_bytes = 500 where subject = 'user:lowered'");
    assert.equal((await confirm(server, "lowered", granted.id)).status, 200);
    assert.equal(await used("lowered"), 800);
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

  it("deleting a pending upload gives back its reservation, and no usage", async () => {
    const c = await presignAndPut(server, "pend", pdfOf(300), { contentType: "application/pdf" });
    await confirm(server, "pend", c.id);
    const p = await presign(server, "pend", { contentType: "application/pdf", size: 300 });
    assert.equal(
      (await server.api("DELETE", `/v1/uploads/${p.json().id}`, { as: "pend" })).status,
      204,
    );
    const quota = (await server.api("GET", "/v1/quota", { as: "pend" })).json();
    assert.deepEqual([quota.usedBytes, quota.reservedBytes, quota.pendingUploads], [300, 0, 0]);
  });
});

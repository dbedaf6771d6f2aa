import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { SignJWT } from "jose";
import { PDF } from "../helpers/fixtures.js";
import { confirm, type Presigned, presignAndPut } from "../helpers/flow.js";
import { putPresigned } from "../helpers/http.js";
import { tempPostgres, type TestDatabase } from "../helpers/databases.js";
import { stowageS3Env, tempBucket } from "../helpers/s3.js";
import { JWT_SECRET, startStowage, type TestServer } from "../helpers/server.js";

const SIZE = 400;
const pdf = Buffer.concat([PDF, Buffer.alloc(SIZE - PDF.length, 0x20)]);
const user = (name: string) => `${name}-${randomBytes(4).toString("hex")}`;

/**
 * Production mode as it runs behind a load balancer: two instances sharing PostgreSQL, the S3
 * server and Redis, with requests for the same user spread over both.
 */
describe("two instances on PostgreSQL + S3 + Redis", () => {
  let database: TestDatabase;
  let bucket: Awaited<ReturnType<typeof tempBucket>>;
  let a: TestServer;
  let b: TestServer;

  before(async () => {
    database = await tempPostgres();
    bucket = await tempBucket("stowage-prod");
    const env = {
      ...database.env,
      ...stowageS3Env(bucket.name),
      REDIS_URL: process.env.STOWAGE_TEST_REDIS_URL ?? "redis://127.0.0.1:6379",
      STOWAGE_DEFAULT_QUOTA_BYTES: String(100 * SIZE),
      STOWAGE_DEFAULT_ORG_QUOTA_BYTES: String(3 * SIZE),
      STOWAGE_PRESIGN_RATE_LIMIT: "1000",
    };
    a = await startStowage(env);
    b = await startStowage(env);
  });
  after(async () => {
    await a.close();
    await b.close();
    await database.drop();
    await bucket.drop();
  });

  const used = async (name: string) => (await a.api("GET", "/v1/quota", { as: name })).json().usedBytes as number;

  it("200 concurrent confirms for a quota that fits 100: exactly 100 win, usage exact, losers' objects deleted", async () => {
    const racer = user("racer");
    const uploads: Presigned[] = [];
    for (let i = 0; i < 200; i += 20) {
      uploads.push(...(await Promise.all(Array.from({ length: 20 }, () => presignAndPut(a, racer, pdf, { contentType: "application/pdf" })))));
    }
    // A client retries a 503 (Retry-After) as it would in production: on an overloaded CI machine
    // a pool or store timeout must not look like a lost race. The quota assertions stay exact.
    const confirmWithRetry = async (server: TestServer, id: string) => {
      let res = await confirm(server, racer, id);
      for (let attempt = 0; attempt < 5 && res.status === 503; attempt++) {
        await new Promise((r) => setTimeout(r, 200));
        res = await confirm(server, racer, id);
      }
      return res;
    };
    const results = await Promise.all(uploads.map((u, i) => confirmWithRetry(i % 2 === 0 ? a : b, u.id)));
    const statuses = results.map((r) => r.status);
    assert.deepEqual(new Set(statuses), new Set([200, 413]), `statuses: ${[...new Set(statuses)]}`);
    assert.equal(statuses.filter((s) => s === 200).length, 100);
    assert.equal(statuses.filter((s) => s === 413).length, 100);
    assert.equal(await used(racer), 100 * SIZE);
    const stats = await Promise.all(uploads.map((u) => a.runtime.driver.stat({ bucket: "private", key: u.key })));
    stats.forEach((stat, i) => assert.equal(stat !== undefined, statuses[i] === 200, `object ${i}`));
  });

  it("charges once when both instances confirm the same upload at the same time", async () => {
    const twin = user("twin");
    const uploads = await Promise.all(Array.from({ length: 20 }, () => presignAndPut(a, twin, pdf, { contentType: "application/pdf" })));
    const results = await Promise.all(uploads.flatMap((u) => [confirm(a, twin, u.id), confirm(b, twin, u.id)]));
    assert.ok(results.every((r) => r.status === 200));
    assert.equal(await used(twin), 20 * SIZE);
  });

  it("leaves the quota right when a delete races a confirm", async () => {
    const racer = user("deleter");
    const uploads = await Promise.all(Array.from({ length: 20 }, () => presignAndPut(a, racer, pdf, { contentType: "application/pdf" })));
    await Promise.all(uploads.flatMap((u) => [confirm(a, racer, u.id), b.api("DELETE", `/v1/uploads/${u.id}`, { as: racer })]));
    // Whatever order each pair ran in, the upload ends deleted (or refused) and nothing stays charged.
    for (const u of uploads) {
      const status = (await b.api("GET", `/v1/uploads/${u.id}`, { as: racer })).json().status;
      if (status === "confirmed") assert.equal((await a.api("DELETE", `/v1/uploads/${u.id}`, { as: racer })).status, 204);
    }
    assert.equal(await used(racer), 0);
  });

  it("charges the organization with the user, both or neither", async () => {
    const member = user("member");
    const org = user("org");
    const withOrg = await new SignJWT({ org })
      .setProtectedHeader({ alg: "HS256" })
      .setSubject(member)
      .setExpirationTime("10m")
      .sign(new TextEncoder().encode(JWT_SECRET));
    const up = async () => {
      const res = await a.api("POST", "/v1/uploads", {
        token: withOrg,
        body: { ownerType: "document", filename: "x.pdf", contentType: "application/pdf", size: SIZE },
      });
      await putPresigned(res.json(), pdf);
      return res.json().id as string;
    };
    const ids = [await up(), await up(), await up(), await up()];
    const statuses = [];
    for (const id of ids) statuses.push((await b.api("POST", `/v1/uploads/${id}/confirm`, { token: withOrg })).status);
    assert.deepEqual(statuses, [200, 200, 200, 413], "the org fits three");
    const quota = (await a.api("GET", "/v1/quota", { token: withOrg })).json();
    assert.deepEqual(quota, { usedBytes: 3 * SIZE, limitBytes: 100 * SIZE, org: { id: org, usedBytes: 3 * SIZE, limitBytes: 3 * SIZE } });
    assert.equal((await b.api("DELETE", `/v1/uploads/${ids[0]}`, { token: withOrg })).status, 204);
    const after = (await a.api("GET", "/v1/quota", { token: withOrg })).json();
    assert.equal(after.usedBytes, 2 * SIZE);
    assert.equal(after.org.usedBytes, 2 * SIZE, "the delete refunds the organization too");
  });

  it("attaches confirmed uploads to a record, all or none", async () => {
    const owner = user("attacher");
    const confirmed = [];
    for (let i = 0; i < 3; i++) {
      const u = await presignAndPut(a, owner, pdf, { contentType: "application/pdf" });
      await confirm(b, owner, u.id);
      confirmed.push(u.id);
    }
    const pending = (await presignAndPut(a, owner, pdf, { contentType: "application/pdf" })).id;
    const stranger = await presignAndPut(a, user("stranger"), pdf, { contentType: "application/pdf" });
    const attach = (ids: string[], parent = { type: "message", id: "m-1" }) =>
      a.api("POST", "/v1/uploads/attach", { as: owner, body: { uploadIds: ids, parent } });

    const refused = await attach([...confirmed, pending]);
    assert.equal(refused.status, 409);
    assert.equal(refused.json().error.code, "ATTACH_CONFLICT");
    assert.deepEqual(refused.json().error.details.refused.map((r: { id: string }) => r.id), [pending]);
    assert.equal((await b.api("GET", `/v1/uploads/${confirmed[0]}`, { as: owner })).json().parent, undefined, "nothing changed");
    assert.equal((await attach([confirmed[0] as string, stranger.id])).status, 409, "another user's upload");

    const ok = await attach(confirmed);
    assert.equal(ok.status, 200, ok.body.toString());
    assert.deepEqual(ok.json().items.map((u: { parent: unknown }) => u.parent), confirmed.map(() => ({ type: "message", id: "m-1" })));
    assert.equal((await attach(confirmed)).status, 200, "attaching again to the same record is harmless");
    assert.equal((await attach([confirmed[1] as string], { type: "message", id: "m-2" })).status, 409, "attached elsewhere");
  });
});

import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { SignJWT } from "jose";
import { PDF } from "../helpers/fixtures.js";
import { confirm, type Presigned, presignAndPut } from "../helpers/flow.js";
import { putPresigned } from "../helpers/http.js";
import { retry503, startTwoInstances, type TwoInstances } from "../helpers/instances.js";
import { JWT_SECRET, type TestServer } from "../helpers/server.js";

const SIZE = 400;
const pdf = Buffer.concat([PDF, Buffer.alloc(SIZE - PDF.length, 0x20)]);
const user = (name: string) => `${name}-${randomBytes(4).toString("hex")}`;

/**
 * Production mode as it runs behind a load balancer: two instances sharing PostgreSQL, the S3
 * server and Redis, with requests for the same user spread over both.
 */
describe("two instances on PostgreSQL + S3 + Redis", () => {
  let a: TestServer;
  let b: TestServer;
  let instances: TwoInstances;

  before(async () => {
    instances = await startTwoInstances("stowage-prod", {
      STOWAGE_DEFAULT_QUOTA_BYTES: String(100 * SIZE),
      STOWAGE_DEFAULT_ORG_QUOTA_BYTES: String(3 * SIZE),
      STOWAGE_PRESIGN_RATE_LIMIT: "1000",
      STOWAGE_MAX_PENDING_UPLOADS: "1000",
    });
    ({ a, b } = instances);
  });
  after(async () => instances.close());

  const used = async (name: string) => (await a.api("GET", "/v1/quota", { as: name })).json().usedBytes as number;

  it("200 concurrent presigns over two instances for a quota that fits 100: exactly 100 reserved, all of them confirm, usage exact", async () => {
    const racer = user("racer");
    const body = { ownerType: "document", filename: "x.pdf", contentType: "application/pdf", size: SIZE };
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) => retry503(() => (i % 2 === 0 ? a : b).api("POST", "/v1/uploads", { as: racer, body }))),
    );
    const statuses = results.map((r) => r.status);
    assert.deepEqual(new Set(statuses), new Set([201, 413]), `statuses: ${[...new Set(statuses)]}`);
    assert.equal(statuses.filter((s) => s === 201).length, 100);
    const quota = (await a.api("GET", "/v1/quota", { as: racer })).json();
    assert.deepEqual([quota.usedBytes, quota.reservedBytes, quota.pendingUploads], [0, 100 * SIZE, 100]);
    const won = results.filter((r) => r.status === 201).map((r) => (r as Awaited<ReturnType<TestServer["api"]>>).json<Presigned>());
    for (let i = 0; i < won.length; i += 20) {
      await Promise.all(won.slice(i, i + 20).map((up) => putPresigned(up, pdf)));
    }
    const confirms = await Promise.all(won.map((up, i) => retry503(() => confirm(i % 2 === 0 ? b : a, racer, up.id))));
    assert.deepEqual(new Set(confirms.map((r) => r.status)), new Set([200]), "a reserved upload always fits");
    const settled = (await b.api("GET", "/v1/quota", { as: racer })).json();
    assert.deepEqual([settled.usedBytes, settled.reservedBytes, settled.pendingUploads], [100 * SIZE, 0, 0]);
    const stats = await Promise.all(won.map((u) => a.runtime.driver.stat({ bucket: "private", key: u.key })));
    assert.ok(stats.every((stat) => stat?.size === SIZE), "every confirmed upload promoted to its key");
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
    const presignOne = () =>
      a.api("POST", "/v1/uploads", {
        token: withOrg,
        body: { ownerType: "document", filename: "x.pdf", contentType: "application/pdf", size: SIZE },
      });
    const answers = [await presignOne(), await presignOne(), await presignOne(), await presignOne()];
    assert.deepEqual(answers.map((r) => r.status), [201, 201, 201, 413], "the org's room is reserved for three");
    assert.equal(answers[3]?.json().error.code, "QUOTA_EXCEEDED");
    const ids = answers.slice(0, 3).map((r) => r.json().id as string);
    const statuses = [];
    for (const [i, id] of ids.entries()) {
      await putPresigned((answers[i] as (typeof answers)[number]).json(), pdf);
      statuses.push((await b.api("POST", `/v1/uploads/${id}/confirm`, { token: withOrg })).status);
    }
    assert.deepEqual(statuses, [200, 200, 200]);
    const quota = (await a.api("GET", "/v1/quota", { token: withOrg })).json();
    assert.deepEqual(quota, {
      usedBytes: 3 * SIZE,
      reservedBytes: 0,
      limitBytes: 100 * SIZE,
      pendingUploads: 0,
      org: { id: org, usedBytes: 3 * SIZE, reservedBytes: 0, limitBytes: 3 * SIZE },
    });
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

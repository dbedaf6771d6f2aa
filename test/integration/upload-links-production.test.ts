import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { PDF } from "../helpers/fixtures.js";
import type { Presigned } from "../helpers/flow.js";
import { putPresigned, type RawResponse } from "../helpers/http.js";
import { retry503, startTwoInstances, type TwoInstances } from "../helpers/instances.js";
import { asHolder } from "../helpers/links.js";
import type { TestServer } from "../helpers/server.js";

const SIZE = 400;
const pdf = Buffer.concat([PDF, Buffer.alloc(SIZE - PDF.length, 0x20)]);
const pdfFile = { ownerType: "document", filename: "signed.pdf", contentType: "application/pdf", size: SIZE };
const user = (name: string) => `${name}-${randomBytes(4).toString("hex")}`;

/**
 * Upload links in production mode: two instances sharing PostgreSQL, the S3 server (Ceph RGW)
 * and Redis, with a link's requests spread over both.
 */
describe("upload links on two instances (PostgreSQL + S3 + Redis)", () => {
  let a: TestServer;
  let b: TestServer;
  let instances: TwoInstances;

  before(async () => {
    instances = await startTwoInstances("stowage-links", {
      STOWAGE_PRESIGN_RATE_LIMIT: "1000",
      STOWAGE_MAX_PENDING_UPLOADS: "1000",
      // The races below send far more than a minute's default through one link and one address.
      STOWAGE_LINK_RATE_LIMIT: "1000",
      STOWAGE_LINK_ADDRESS_RATE_LIMIT: "100000",
    });
    ({ a, b } = instances);
  });
  after(async () => instances.close());

  const createLink = async (creator: string, body: Record<string, unknown> = {}) => {
    const res = await a.api("POST", "/v1/upload-links", { as: creator, body: { ownerType: "document", expiresInSeconds: 3600, maxUses: 5, ...body } });
    assert.equal(res.status, 201, res.body.toString());
    return res.json<{ id: string; token: string }>();
  };
  const quota = async (server: TestServer, name: string) => {
    const q = (await server.api("GET", "/v1/quota", { as: name })).json();
    return [q.usedBytes, q.reservedBytes, q.pendingUploads];
  };

  it("runs the whole flow on RGW: the holder presigns on one instance, PUTs to S3, confirms on the other; the creator sees and pays for it", async () => {
    const creator = user("creator");
    const link = await createLink(creator);
    const presign = await asHolder(b, link.token, "POST", "/v1/uploads", pdfFile);
    assert.equal(presign.status, 201, presign.body.toString());
    const ticket = presign.json<Presigned>();
    assert.ok(ticket.key.startsWith(`documents/${creator}/`), ticket.key);
    assert.ok(!ticket.url.startsWith(a.baseUrl) && !ticket.url.startsWith(b.baseUrl), `a URL of the S3 server: ${ticket.url}`);
    const put = await putPresigned(ticket, pdf);
    assert.equal(put.status, 200, put.body.toString());
    const confirmed = await asHolder(a, link.token, "POST", `/v1/uploads/${ticket.id}/confirm`);
    assert.equal(confirmed.status, 200, confirmed.body.toString());
    assert.deepEqual([confirmed.json().status, confirmed.json().size], ["confirmed", SIZE]);
    assert.equal((await a.runtime.driver.stat({ bucket: "private", key: ticket.key }))?.size, SIZE, "promoted to its key on S3");

    const list = (await b.api("GET", "/v1/uploads", { as: creator })).json();
    assert.deepEqual(list.items.map((u: { id: string; linkId: string | null }) => [u.id, u.linkId]), [[ticket.id, link.id]]);
    assert.deepEqual(await quota(a, creator), [SIZE, 0, 0]);
    const view = (await b.api("GET", `/v1/upload-links/${link.id}`, { as: creator })).json();
    assert.equal(view.uses, 1);
    assert.deepEqual(view.uploads.map((u: { id: string; status: string }) => [u.id, u.status]), [[ticket.id, "confirmed"]]);
    assert.deepEqual((await asHolder(b, link.token, "GET", "/v1/quota")).status, 401);
  });

  it("50 concurrent presigns over both instances through a link of maxUses 10: exactly 10 answered 201, 40 LINK_USED_UP", async () => {
    const creator = user("racer");
    const link = await createLink(creator, { maxUses: 10 });
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) => retry503(() => asHolder(i % 2 === 0 ? a : b, link.token, "POST", "/v1/uploads", pdfFile))),
    );
    const statuses = results.map((r) => r.status);
    assert.deepEqual(new Set(statuses), new Set([201, 403]), `statuses: ${[...new Set(statuses)]}`);
    assert.equal(statuses.filter((s) => s === 201).length, 10);
    const refused = results.filter((r) => r.status === 403);
    assert.equal(refused.length, 40);
    assert.deepEqual(new Set(refused.map((r) => r.json().error.code)), new Set(["LINK_USED_UP"]));
    assert.deepEqual(await quota(b, creator), [0, 10 * SIZE, 10], "ten reserved, on the creator's quota");
    const view = (await a.api("GET", `/v1/upload-links/${link.id}`, { as: creator })).json();
    assert.deepEqual([view.uses, view.status, view.uploads.length], [10, "used_up", 10]);

    const won = results.filter((r) => r.status === 201).map((r) => r.json<Presigned>());
    await Promise.all(won.map(async (ticket) => assert.equal((await putPresigned(ticket, pdf)).status, 200)));
    const confirms = await Promise.all(won.map((ticket, i) => retry503(() => asHolder(i % 2 === 0 ? b : a, link.token, "POST", `/v1/uploads/${ticket.id}/confirm`))));
    assert.deepEqual(confirms.map((r) => r.status), won.map(() => 200), "every use taken confirms");
    assert.deepEqual(await quota(a, creator), [10 * SIZE, 0, 0]);
    const more = await asHolder(b, link.token, "POST", "/v1/uploads", pdfFile);
    assert.equal(more.status, 403);
    assert.equal(more.json().error.code, "LINK_USED_UP", "confirmed uploads keep their uses");
  });

  it("revoked while presigns race on both instances: every presign answers 201 or 410 LINK_REVOKED, and nothing of the link stays pending or reserved", async (t) => {
    const creator = user("revoker");
    const link = await createLink(creator, { maxUses: 1000 });
    // Eight clients presign one after another, half on each instance, until refused; the revoke
    // goes out once ten answers are in, so presigns are in flight on both sides of it.
    const results: RawResponse[] = [];
    let revokeNow: () => void = () => undefined;
    const tenAnswered = new Promise<void>((resolve) => (revokeNow = resolve));
    const client = async (server: TestServer) => {
      for (let i = 0; i < 40; i++) {
        const res = await retry503(() => asHolder(server, link.token, "POST", "/v1/uploads", pdfFile));
        results.push(res);
        if (results.length >= 10) revokeNow();
        if (res.status !== 201) return;
      }
    };
    const clients = Promise.all(Array.from({ length: 8 }, (_, i) => client(i % 2 === 0 ? a : b)));
    await tenAnswered;
    const revoked = await b.api("DELETE", `/v1/upload-links/${link.id}`, { as: creator });
    assert.equal(revoked.status, 204);
    await clients;
    const codes = results.map((r) => (r.status === 201 ? "201" : `${r.status} ${r.json().error.code}`));
    assert.ok(codes.every((c) => c === "201" || c === "410 LINK_REVOKED"), `answers: ${[...new Set(codes)]}`);
    assert.equal(codes.filter((c) => c === "410 LINK_REVOKED").length, 8, "every client ends refused");
    t.diagnostic(`${codes.filter((c) => c === "201").length} presigns got through, ${codes.filter((c) => c !== "201").length} refused`);

    const view = (await a.api("GET", `/v1/upload-links/${link.id}`, { as: creator })).json();
    assert.equal(view.status, "revoked");
    const ids = results.filter((r) => r.status === 201).map((r) => r.json<Presigned>().id);
    assert.deepEqual(new Set(view.uploads.map((u: { id: string }) => u.id)), new Set(ids), "every upload made through it, listed");
    for (const u of view.uploads as { id: string; status: string; rejection?: { code: string } }[]) {
      assert.deepEqual([u.status, u.rejection?.code], ["rejected", "LINK_REVOKED"], `upload ${u.id}: no pending upload outlives the revocation`);
    }
    assert.deepEqual(await quota(b, creator), [0, 0, 0], "nothing reserved for a revoked link");
    const late = results.find((r) => r.status === 201)?.json<Presigned>();
    assert.ok(late !== undefined);
    assert.equal((await putPresigned(late, pdf)).status, 412, "its staging key was sealed with the revocation: nothing lands");
    const confirmLate = await asHolder(a, link.token, "POST", `/v1/uploads/${late.id}/confirm`);
    assert.deepEqual([confirmLate.status, confirmLate.json().error.code], [410, "LINK_REVOKED"]);
  });
});

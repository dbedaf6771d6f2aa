import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import type { UploadEvent } from "../../src/uploads/events.js";
import { clamdEnv } from "../helpers/clamd.js";
import { PDF } from "../helpers/fixtures.js";
import { confirm, presignAndPut } from "../helpers/flow.js";
import { rawRequest } from "../helpers/http.js";
import { freePort } from "../helpers/ports.js";
import { relay } from "../helpers/relay.js";
import { startStowage, type TestServer } from "../helpers/server.js";

/**
 * Scanning before an upload becomes visible, against the real clamd (`scripts/clamd.sh`, its
 * own test signature database) reached through a relay the tests can cut, as an outage would.
 */
describe("virus scanning with clamd", () => {
  const clamd = clamdEnv();
  let server: TestServer;
  let link: Awaited<ReturnType<typeof relay>>;
  const events: UploadEvent[] = [];
  before(async () => {
    link = await relay(new URL(`tcp://${clamd.host}:${clamd.port}`), await freePort());
    server = await startStowage({
      STOWAGE_CLAMD: `tcp://127.0.0.1:${link.port}`,
      STOWAGE_CLAMD_STREAM_MAX_BYTES: "4096",
      STOWAGE_EVENTS_POLL_MS: "50",
    });
    server.runtime.onEvent((event) => {
      events.push(event);
    });
  });
  after(async () => {
    await server.close();
    await link.cut();
  });

  const statusOf = async (user: string, id: string) =>
    (await server.api("GET", `/v1/uploads/${id}`, { as: user })).json<{ status: string; rejection?: { code: string; reason: string } }>();
  const until = async (user: string, id: string, status: string, ms = 15_000) => {
    for (const started = Date.now(); Date.now() - started < ms; await sleep(50)) {
      const upload = await statusOf(user, id);
      if (upload.status === status) return upload;
    }
    return assert.fail(`${id} never became ${status}: ${JSON.stringify(await statusOf(user, id))}`);
  };
  const quota = async (user: string) => (await server.api("GET", "/v1/quota", { as: user })).json<{ usedBytes: number; reservedBytes: number }>();
  /** A real PDF with the test signature's private marker inside (never a real virus sample). */
  const infectedPdf = () => Buffer.concat([PDF.subarray(0, 20), Buffer.from(`\n% ${clamd.pattern}\n`), PDF.subarray(20)]);

  it("a clean document: confirm answers scanning (no URL, not downloadable), then it is confirmed and served", async () => {
    const up = await presignAndPut(server, "alice", PDF, { contentType: "application/pdf", filename: "clean.pdf" });
    const answer = await confirm(server, "alice", up.id);
    assert.equal(answer.status, 200, answer.body.toString());
    const body = answer.json<{ status: string; url?: string }>();
    assert.equal(body.status, "scanning");
    assert.equal(body.url, undefined);
    await until("alice", up.id, "confirmed");
    const download = await server.api("GET", `/v1/uploads/${up.id}/download`, { as: "alice" });
    assert.equal(download.status, 200);
    const served = await rawRequest(download.json<{ url: string }>().url);
    assert.deepEqual(served.body, PDF);
    assert.equal((await quota("alice")).usedBytes, PDF.length);
    for (let i = 0; i < 100 && events.filter((e) => e.data.id === up.id).length < 2; i++) await sleep(20);
    assert.deepEqual(events.filter((e) => e.data.id === up.id).map((e) => e.type), ["upload.scanned", "upload.confirmed"]);
  });

  it("an infected document: infected with the signature, its bytes gone, its size given back, never served", async () => {
    const bytes = infectedPdf();
    const up = await presignAndPut(server, "bob", bytes, { contentType: "application/pdf", filename: "invoice.pdf" });
    assert.equal((await confirm(server, "bob", up.id)).json<{ status: string }>().status, "scanning");
    const upload = await until("bob", up.id, "infected");
    assert.equal(upload.rejection?.code, "UPLOAD_INFECTED");
    assert.match(upload.rejection?.reason ?? "", new RegExp(clamd.signature.replace(/\./g, "\\.")));
    const again = await confirm(server, "bob", up.id);
    assert.equal(again.status, 422);
    assert.equal(again.json<{ error: { code: string } }>().error.code, "UPLOAD_INFECTED");
    assert.equal((await server.api("GET", `/v1/uploads/${up.id}/download`, { as: "bob" })).status, 409);
    assert.deepEqual(await quota("bob").then(({ usedBytes, reservedBytes }) => ({ usedBytes, reservedBytes })), { usedBytes: 0, reservedBytes: 0 });
    // Neither the served key nor the staging object holds the bytes.
    const record = await server.runtime.store.findUpload(up.id);
    assert.ok(record?.staging !== undefined);
    assert.equal(await server.runtime.driver.stat({ bucket: record.bucket, key: record.key }), undefined);
    for (let i = 0; i < 50 && ((await server.runtime.driver.stat(record.staging))?.size ?? 0) > 0; i++) await sleep(20);
    assert.ok(((await server.runtime.driver.stat(record.staging))?.size ?? 0) === 0, "the staging object still holds the bytes");
    for (let i = 0; i < 100 && !events.some((e) => e.data.id === up.id); i++) await sleep(20);
    const event = events.find((e) => e.data.id === up.id);
    assert.equal(event?.type, "upload.infected");
    assert.equal(event?.data.signature, clamd.signature);
  });

  it("larger than clamd takes: refused at presign (the scanned type's limit is clamd's), before any byte moves", async () => {
    const policies = (await server.api("GET", "/v1/policies", { as: "carol" })).json<{ items: { ownerType: string; maxBytes: number }[] }>();
    assert.equal(policies.items.find((p) => p.ownerType === "document")?.maxBytes, 4096);
    const res = await server.api("POST", "/v1/uploads", {
      as: "carol",
      body: { ownerType: "document", filename: "big.pdf", contentType: "application/pdf", size: 5000 },
    });
    assert.equal(res.status, 413);
    assert.equal(res.json<{ error: { code: string } }>().error.code, "FILE_TOO_LARGE");
  });

  it("clamd unreachable mid-queue: uploads wait in scanning, /readyz says so, and they are scanned once it is back", async () => {
    await link.cut();
    const clean = await presignAndPut(server, "dave", PDF, { contentType: "application/pdf" });
    const infected = await presignAndPut(server, "dave", infectedPdf(), { contentType: "application/pdf" });
    assert.equal((await confirm(server, "dave", clean.id)).json<{ status: string }>().status, "scanning");
    assert.equal((await confirm(server, "dave", infected.id)).json<{ status: string }>().status, "scanning");
    await sleep(1500);
    assert.equal((await statusOf("dave", clean.id)).status, "scanning");
    assert.equal((await statusOf("dave", infected.id)).status, "scanning");
    // Waiting is not served: no download, no attaching, and confirming again answers the same.
    assert.equal((await server.api("GET", `/v1/uploads/${clean.id}/download`, { as: "dave" })).status, 409);
    const attach = await server.api("POST", "/v1/uploads/attach", { as: "dave", body: { uploadIds: [clean.id], parent: { type: "post", id: "1" } } });
    assert.equal(attach.status, 409);
    assert.equal((await confirm(server, "dave", clean.id)).json<{ status: string }>().status, "scanning");
    const ready = await rawRequest(`${server.baseUrl}/readyz`);
    assert.equal(ready.status, 200);
    assert.equal(ready.json<{ scanner: string }>().scanner, "unavailable");
    await link.restore();
    await until("dave", clean.id, "confirmed", 20_000);
    await until("dave", infected.id, "infected", 20_000);
    assert.equal((await rawRequest(`${server.baseUrl}/readyz`)).json<{ scanner: string }>().scanner, "ok");
  });
});

import assert from "node:assert/strict";
import { randomBytes, randomUUID } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { SignJWT } from "jose";
import { mintToken } from "../../src/auth/jwt.js";
import { loadConfig } from "../../src/config/load.js";
import { SERVE_SECRETS } from "../../src/config/secrets.js";
import { createLogger } from "../../src/logger.js";
import { createRuntime, type Runtime } from "../../src/runtime.js";
import type { UploadEvent } from "../../src/uploads/events.js";
import { PDF, PNG } from "../helpers/fixtures.js";
import { confirm, type Presigned, presignAndPut } from "../helpers/flow.js";
import { putPresigned, type RawResponse, rawRequest } from "../helpers/http.js";
import { asHolder } from "../helpers/links.js";
import { freePort, JWT_SECRET, startStowage, type TestServer } from "../helpers/server.js";

/** A fresh user name per test: quotas and link lists never meet. */
const user = (name: string) => `${name}-${randomBytes(4).toString("hex")}`;

/** What every link view holds (SPEC: UploadLinkView), and nothing else. */
const VIEW_KEYS = ["id", "ownerType", "ownerId", "maxUses", "uses", "maxBytesPerUpload", "allowedTypes", "note", "createdAt", "expiresAt", "revokedAt", "status"];
const INVALID_LINK = "This upload link is not valid.";
const pdfFile = { ownerType: "document", filename: "contract.pdf", contentType: "application/pdf", size: PDF.length };

interface CreatedLink {
  id: string;
  token: string;
  url: string;
  [field: string]: unknown;
}

/** `POST /v1/upload-links` as `creator`, asserting nothing. */
function createLink(server: TestServer, creator: string, body: Record<string, unknown>): Promise<RawResponse> {
  return server.api("POST", "/v1/upload-links", { as: creator, body });
}

/** A link that must be created (201); defaults: a document link for an hour, five uses. */
async function link(server: TestServer, creator: string, body: Record<string, unknown> = {}): Promise<CreatedLink> {
  const res = await createLink(server, creator, { ownerType: "document", expiresInSeconds: 3600, maxUses: 5, ...body });
  assert.equal(res.status, 201, res.body.toString());
  return res.json<CreatedLink>();
}

/** The holder's presign → PUT, asserting both; the pending upload's ticket. */
async function holderPresignAndPut(
  server: TestServer,
  token: string,
  bytes: Buffer,
  input: Record<string, unknown> = {},
): Promise<Presigned> {
  const res = await asHolder(server, token, "POST", "/v1/uploads", { ...pdfFile, size: bytes.length, ...input });
  assert.equal(res.status, 201, res.body.toString());
  const presigned = res.json<Presigned>();
  const put = await putPresigned(presigned, bytes);
  assert.equal(put.status, 200, put.body.toString());
  return presigned;
}

/** The holder's whole upload: presign → PUT → confirm (200). */
async function holderUpload(server: TestServer, token: string, bytes = PDF, input: Record<string, unknown> = {}): Promise<Presigned> {
  const presigned = await holderPresignAndPut(server, token, bytes, input);
  const confirmed = await asHolder(server, token, "POST", `/v1/uploads/${presigned.id}/confirm`);
  assert.equal(confirmed.status, 200, confirmed.body.toString());
  assert.equal(confirmed.json().status, "confirmed");
  return presigned;
}

/** The error an answer carries: its status, code and message. */
const refusal = (res: RawResponse) => ({ status: res.status, code: res.json().error?.code as string | undefined });

async function viewOf(server: TestServer, creator: string, id: string) {
  const res = await server.api("GET", `/v1/upload-links/${id}`, { as: creator });
  assert.equal(res.status, 200, res.body.toString());
  return res.json();
}

const quotaOf = async (server: TestServer, name: string) => (await server.api("GET", "/v1/quota", { as: name })).json();

/** The token's parts: SPEC calls what follows the first `.` its secret. */
function tokenParts(token: string): { id: string; secret: string } {
  const dot = token.indexOf(".");
  assert.ok(dot > 0, `a token is <id>.<secret>: ${token.length} characters, no '.'`);
  return { id: token.slice(0, dot), secret: token.slice(dot + 1) };
}

/** The same token with its secret's first character changed (the last one of base64url may carry unused bits). */
function wrongSecret(token: string): string {
  const { id, secret } = tokenParts(token);
  return `${id}.${secret.startsWith("0") ? "1" : "0"}${secret.slice(1)}`;
}

/** The same secret for a link id of the same shape that does not exist. */
function madeUpLinkToken(token: string): string {
  const { id, secret } = tokenParts(token);
  const fake = /^[0-9a-f-]{12,}$/i.test(id) && /[0-9a-f]{12}$/i.test(id)
    ? id.slice(0, -12) + randomBytes(6).toString("hex")
    : randomBytes(id.length).toString("base64url").slice(0, id.length);
  return `${fake}.${secret}`;
}

describe("upload links on the embedded default (SQLite + local disk)", () => {
  let server: TestServer;
  const dir = mkdtempSync(join(tmpdir(), "stowage-links-"));
  let documentPolicy: { allowedTypes: string[]; maxBytes: number; [field: string]: unknown };

  before(async () => {
    const configFile = join(dir, "stowage.config.json");
    writeFileSync(configFile, JSON.stringify({
      policies: {
        admin_report: {
          allowedTypes: ["application/pdf"], maxBytes: 1000, urlTtlSeconds: 60, keyTemplate: "reports/{id}.{ext}",
          bucket: "private", visibility: "private", allowedRoles: ["admin"],
        },
      },
    }));
    // The rate limits are tested on servers of their own below; here they stay out of the way.
    server = await startStowage({ STOWAGE_CONFIG_FILE: configFile, STOWAGE_LINK_RATE_LIMIT: "1000", STOWAGE_LINK_ADDRESS_RATE_LIMIT: "10000" });
    const policies = (await server.api("GET", "/v1/policies", { as: "reader" })).json();
    documentPolicy = policies.items.find((p: { ownerType: string }) => p.ownerType === "document");
  });
  after(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("a holder presigns, uploads and confirms for the creator: the creator lists it with its linkId, is charged, and the link counts it", async () => {
    const creator = user("creator");
    const res = await createLink(server, creator, { ownerType: "document", expiresInSeconds: 3600, maxUses: 5, note: "The signed contract, please" });
    assert.equal(res.status, 201, res.body.toString());
    const created = res.json<CreatedLink>();
    assert.deepEqual(Object.keys(created).sort(), [...VIEW_KEYS, "token", "url"].sort());
    const { id: _id, token, url, createdAt, expiresAt, ...rest } = created;
    assert.deepEqual(rest, {
      ownerType: "document",
      ownerId: null,
      maxUses: 5,
      uses: 0,
      maxBytesPerUpload: documentPolicy.maxBytes,
      allowedTypes: documentPolicy.allowedTypes,
      note: "The signed contract, please",
      revokedAt: null,
      status: "active",
    }, "the effective limits are the policy's when the link does not narrow them");
    const lifetime = Date.parse(expiresAt as string) - Date.parse(createdAt as string);
    assert.ok(Math.abs(lifetime - 3600_000) < 1000, `expiresAt - createdAt = ${lifetime} ms`);
    assert.ok(Math.abs(Date.parse(createdAt as string) - Date.now()) < 60_000, `createdAt ${createdAt}`);
    const { secret } = tokenParts(token);
    assert.ok(secret.length >= 22, "at least 128 random bits");
    assert.equal(url, `${server.baseUrl}/#link=${token}`, "the upload page in link mode; the token in the fragment");

    const events: UploadEvent[] = [];
    const stopListening = server.runtime.onEvent((event) => {
      events.push(event);
    });
    const presign = await asHolder(server, token, "POST", "/v1/uploads", pdfFile);
    assert.equal(presign.status, 201, presign.body.toString());
    const ticket = presign.json<Presigned>();
    assert.ok(ticket.key.startsWith(`documents/${creator}/`), `the creator's key: ${ticket.key}`);
    assert.equal((await putPresigned(ticket, PDF)).status, 200);
    const confirmed = await asHolder(server, token, "POST", `/v1/uploads/${ticket.id}/confirm`);
    assert.equal(confirmed.status, 200, confirmed.body.toString());
    assert.equal(confirmed.json().status, "confirmed");
    assert.equal(confirmed.json().size, PDF.length);
    const seen = await asHolder(server, token, "GET", `/v1/uploads/${ticket.id}`);
    assert.equal(seen.status, 200, "the holder sees what it uploaded");
    assert.deepEqual([seen.json().status, seen.json().linkId], ["confirmed", created.id]);
    // The application hears of it (webhooks, onEvent) with the link it came through.
    for (let i = 0; i < 100 && !events.some((e) => e.data.id === ticket.id); i++) await new Promise((r) => setTimeout(r, 50));
    stopListening();
    const event = events.find((e) => e.data.id === ticket.id);
    assert.deepEqual([event?.type, event?.data.linkId], ["upload.confirmed", created.id]);

    const list = await server.api("GET", "/v1/uploads", { as: creator });
    assert.equal(list.status, 200);
    assert.deepEqual(list.json().items.map((u: { id: string; linkId: string | null }) => [u.id, u.linkId]), [[ticket.id, created.id]]);
    const quota = await quotaOf(server, creator);
    assert.deepEqual([quota.usedBytes, quota.reservedBytes, quota.pendingUploads], [PDF.length, 0, 0], "charged to the creator");

    const view = await viewOf(server, creator, created.id);
    assert.deepEqual(Object.keys(view).sort(), [...VIEW_KEYS, "uploads"].sort());
    assert.equal(view.uses, 1);
    assert.equal(view.status, "active");
    assert.deepEqual(view.uploads.map((u: { id: string; linkId: string; status: string }) => [u.id, u.linkId, u.status]), [[ticket.id, created.id, "confirmed"]]);
    const stranger = user("stranger");
    assert.equal((await server.api("GET", "/v1/uploads", { as: stranger })).json().items.length, 0, "nobody else's list");
  });

  it("shows no linkId on an upload its user made", async () => {
    const creator = user("plain");
    const own = await presignAndPut(server, creator, PDF, { contentType: "application/pdf" });
    const pendingView = (await server.api("GET", `/v1/uploads/${own.id}`, { as: creator })).json();
    assert.equal("linkId" in pendingView, false, `GET /v1/uploads/{id}: ${JSON.stringify(pendingView)}`);
    assert.equal((await confirm(server, creator, own.id)).status, 200);
    const listed = (await server.api("GET", "/v1/uploads", { as: creator })).json().items;
    assert.deepEqual(listed.map((u: { id: string; linkId?: unknown }) => [u.id, "linkId" in u]), [[own.id, false]]);
  });

  it("shows the token in the create answer only: never in the list or in a link's view", async () => {
    const creator = user("lister");
    const links = [await link(server, creator, { note: "first" }), await link(server, creator, { note: "second" }), await link(server, creator, { note: "third" })];
    const firstPage = await server.api("GET", "/v1/upload-links?limit=2", { as: creator });
    assert.equal(firstPage.status, 200, firstPage.body.toString());
    const page = firstPage.json();
    assert.deepEqual(page.items.map((l: { id: string }) => l.id), [links[2]?.id, links[1]?.id], "newest first");
    assert.equal(typeof page.nextCursor, "string");
    const secondPage = (await server.api("GET", `/v1/upload-links?limit=2&cursor=${encodeURIComponent(page.nextCursor)}`, { as: creator })).json();
    assert.deepEqual(secondPage.items.map((l: { id: string }) => l.id), [links[0]?.id]);
    assert.equal(secondPage.nextCursor, null);
    for (const item of [...page.items, ...secondPage.items]) assert.deepEqual(Object.keys(item).sort(), [...VIEW_KEYS].sort(), "no token, no url");

    const whole = await server.api("GET", "/v1/upload-links", { as: creator });
    const views = await Promise.all(links.map((l) => server.api("GET", `/v1/upload-links/${l.id}`, { as: creator })));
    for (const answer of [firstPage, whole, ...views]) {
      const text = answer.body.toString();
      for (const l of links) {
        assert.ok(!text.includes(l.token), "the token is shown once");
        assert.ok(!text.includes(tokenParts(l.token).secret), "nor its secret part");
      }
    }
    assert.equal((await server.api("GET", "/v1/upload-links", { as: user("other") })).json().items.length, 0, "a caller sees their own links only");
  });

  it("keeps another user's link out of reach (404) and wants a user's bearer token for management", async () => {
    const creator = user("owner");
    const mine = await link(server, creator);
    const other = user("other");
    for (const method of ["GET", "DELETE"]) {
      const res = await server.api(method, `/v1/upload-links/${mine.id}`, { as: other });
      assert.deepEqual(refusal(res), { status: 404, code: "NOT_FOUND" }, method);
    }
    assert.equal((await viewOf(server, creator, mine.id)).status, "active", "another user's DELETE revoked nothing");
    assert.deepEqual(refusal(await server.api("GET", `/v1/upload-links/${randomUUID()}`, { as: creator })), { status: 404, code: "NOT_FOUND" });
    const anonymous = await server.api("POST", "/v1/upload-links", { body: { ownerType: "document", expiresInSeconds: 3600, maxUses: 1 } });
    assert.deepEqual(refusal(anonymous), { status: 401, code: "UNAUTHENTICATED" });
  });

  const widening: [string, Record<string, unknown>, string][] = [
    ["a type the policy does not take", { allowedTypes: ["application/pdf", "application/zip"] }, "allowedTypes"],
    ["only types the policy does not take", { allowedTypes: ["text/plain"] }, "allowedTypes"],
    ["more than the policy's maxBytes", { maxBytesPerUpload: 50 * 1000 * 1000 + 1 }, "maxBytesPerUpload"],
  ];
  const base = { ownerType: "document", expiresInSeconds: 3600, maxUses: 5 };

  it("refuses a link that would widen its owner type's policy: 400 INVALID_REQUEST", async () => {
    const creator = user("widener");
    assert.equal(documentPolicy.maxBytes, 50 * 1000 * 1000);
    for (const [what, extra] of widening) {
      const res = await createLink(server, creator, { ...base, ...extra });
      assert.deepEqual(refusal(res), { status: 400, code: "INVALID_REQUEST" }, `${what}: ${res.body.toString()}`);
    }
    assert.equal((await server.api("GET", "/v1/upload-links", { as: creator })).json().items.length, 0);
  });

  it("names the widened field in details.field (body.allowedTypes / body.maxBytesPerUpload, as REST names fields)", async () => {
    const creator = user("widener");
    for (const [what, extra, field] of widening) {
      const res = await createLink(server, creator, { ...base, ...extra });
      assert.equal(res.json().error.details?.field, `body.${field}`, what);
    }
  });

  it("checks owner types, roles and every field's bounds", async () => {
    const creator = user("narrower");
    assert.deepEqual(refusal(await createLink(server, creator, { ...base, ownerType: "no_such_type" })), { status: 400, code: "UNKNOWN_OWNER_TYPE" });
    assert.deepEqual(refusal(await createLink(server, creator, { ...base, ownerType: "admin_report" })), { status: 403, code: "FORBIDDEN" }, "a type the creator's roles may not use");
    const admin = await server.token(user("admin"), { roles: ["admin"] });
    const adminLink = await server.api("POST", "/v1/upload-links", { token: admin, body: { ...base, ownerType: "admin_report" } });
    assert.equal(adminLink.status, 201, adminLink.body.toString());

    const outOfBounds: Record<string, unknown>[] = [
      { expiresInSeconds: 59 },
      { expiresInSeconds: 2_592_001 },
      { expiresInSeconds: 60.5 },
      { maxUses: 0 },
      { maxUses: 1001 },
      { maxBytesPerUpload: 0 },
      { allowedTypes: [] },
      { allowedTypes: Array.from({ length: 51 }, () => "application/pdf") },
      { note: "n".repeat(501) },
      { expiresInSeconds: undefined },
      { maxUses: undefined },
    ];
    for (const extra of outOfBounds) {
      const res = await createLink(server, creator, { ...base, ...extra });
      assert.deepEqual(refusal(res), { status: 400, code: "INVALID_REQUEST" }, JSON.stringify(extra));
    }
    const edges: Record<string, unknown>[] = [
      { expiresInSeconds: 60, maxUses: 1 },
      { expiresInSeconds: 2_592_000, maxUses: 1000 },
      { maxBytesPerUpload: documentPolicy.maxBytes, allowedTypes: documentPolicy.allowedTypes },
      { maxBytesPerUpload: 1, allowedTypes: ["application/pdf"], note: "n".repeat(500) },
    ];
    for (const extra of edges) {
      const res = await createLink(server, creator, { ...base, ...extra });
      assert.equal(res.status, 201, `${JSON.stringify(extra).slice(0, 200)}: ${res.body.toString()}`);
    }
  });

  it("holds the holder to the link's owner type, types and size, and shows it only the narrowed policy", async () => {
    const creator = user("limits");
    const narrowed = await link(server, creator, { allowedTypes: ["application/pdf"], maxBytesPerUpload: 1000, maxUses: 10 });
    assert.deepEqual([narrowed.allowedTypes, narrowed.maxBytesPerUpload], [["application/pdf"], 1000]);

    const policies = await asHolder(server, narrowed.token, "GET", "/v1/policies");
    assert.equal(policies.status, 200, policies.body.toString());
    assert.deepEqual(policies.json().items, [{ ...documentPolicy, allowedTypes: ["application/pdf"], maxBytes: 1000 }]);

    const presign = (input: Record<string, unknown>) => asHolder(server, narrowed.token, "POST", "/v1/uploads", { ...pdfFile, ...input });
    assert.deepEqual(refusal(await presign({ contentType: "image/png", filename: "a.png", size: PNG.length })), { status: 415, code: "CONTENT_TYPE_NOT_ALLOWED" });
    assert.deepEqual(refusal(await presign({ size: 1001 })), { status: 413, code: "FILE_TOO_LARGE" });
    assert.deepEqual(refusal(await presign({ ownerType: "avatar", contentType: "image/png", filename: "a.png", size: PNG.length })), { status: 403, code: "FORBIDDEN" });
    assert.equal((await presign({ size: 1000 })).status, 201, "at the link's limit");
    assert.equal((await viewOf(server, creator, narrowed.id)).uses, 1, "a refused presign takes no use");
  });

  it("forces a link's ownerId: another one is refused (403), none takes the link's", async () => {
    const creator = user("chatter");
    // The holder never picks where its uploads go: an owner type keyed by ownerId needs the link to name one.
    const unkeyed = await createLink(server, creator, { ownerType: "chat_upload", expiresInSeconds: 3600, maxUses: 5 });
    assert.deepEqual(refusal(unkeyed), { status: 400, code: "OWNER_ID_REQUIRED" }, unkeyed.body.toString());
    const room = await link(server, creator, { ownerType: "chat_upload", ownerId: "room-42" });
    assert.equal(room.ownerId, "room-42");
    const file = { ownerType: "chat_upload", filename: "a.png", contentType: "image/png", size: PNG.length };
    assert.deepEqual(refusal(await asHolder(server, room.token, "POST", "/v1/uploads", { ...file, ownerId: "room-43" })), { status: 403, code: "FORBIDDEN" });
    const forced = await asHolder(server, room.token, "POST", "/v1/uploads", file);
    assert.equal(forced.status, 201, forced.body.toString());
    assert.ok(forced.json().key.startsWith("chat/room-42/"), forced.json().key);
    const same = await asHolder(server, room.token, "POST", "/v1/uploads", { ...file, ownerId: "room-42" });
    assert.equal(same.status, 201, same.body.toString());
    const shown = await server.api("GET", `/v1/uploads/${forced.json().id}`, { as: creator });
    assert.equal(shown.json().ownerId, "room-42");
    // A link that names no ownerId lets its holder name none either.
    const plain = await link(server, creator);
    const chosen = await asHolder(server, plain.token, "POST", "/v1/uploads", { ...pdfFile, ownerId: "someone-elses-record" });
    assert.deepEqual(refusal(chosen), { status: 403, code: "FORBIDDEN" });
    // The link names the ownerId, so its holder is not told to give one (a client would refuse before presigning).
    const policies = (await asHolder(server, room.token, "GET", "/v1/policies")).json().items;
    assert.deepEqual(policies.map((p: { ownerType: string; ownerIdRequired: boolean }) => [p.ownerType, p.ownerIdRequired]), [["chat_upload", false]]);
    const own = (await server.api("GET", "/v1/policies", { as: creator })).json().items.find((p: { ownerType: string }) => p.ownerType === "chat_upload");
    assert.equal(own.ownerIdRequired, true, "the creator's own presigns still need one");
  });

  it("never lets more than maxUses uploads be live: used up answers 403 LINK_USED_UP; an aborted or rejected upload gives its use back", async () => {
    const creator = user("counter");
    const twice = await link(server, creator, { maxUses: 2 });
    const presign = () => asHolder(server, twice.token, "POST", "/v1/uploads", pdfFile);
    const first = await presign();
    const second = await presign();
    assert.deepEqual([first.status, second.status], [201, 201]);
    const usedUp = await presign();
    assert.deepEqual(refusal(usedUp), { status: 403, code: "LINK_USED_UP" });
    let view = await viewOf(server, creator, twice.id);
    assert.deepEqual([view.uses, view.status], [2, "used_up"]);

    // Abort: the holder deletes its pending upload.
    const aborted = second.json<Presigned>();
    assert.equal((await asHolder(server, twice.token, "DELETE", `/v1/uploads/${aborted.id}`)).status, 204);
    assert.equal((await server.api("GET", `/v1/uploads/${aborted.id}`, { as: creator })).json().status, "deleted");
    view = await viewOf(server, creator, twice.id);
    assert.deepEqual([view.uses, view.status], [1, "active"], "the aborted upload gave its use back");
    const third = await presign();
    assert.equal(third.status, 201, third.body.toString());
    assert.deepEqual(refusal(await presign()), { status: 403, code: "LINK_USED_UP" });

    // Rejected at confirm (not what it claims): the use comes back too.
    const liar = third.json<Presigned>();
    assert.equal((await putPresigned(liar, Buffer.alloc(PDF.length, "a"))).status, 200);
    assert.deepEqual(refusal(await asHolder(server, twice.token, "POST", `/v1/uploads/${liar.id}/confirm`)), { status: 415, code: "CONTENT_TYPE_MISMATCH" });
    assert.equal((await viewOf(server, creator, twice.id)).uses, 1);
    const fourth = await presign();
    assert.equal(fourth.status, 201, fourth.body.toString());
    assert.deepEqual(refusal(await presign()), { status: 403, code: "LINK_USED_UP" });

    // A used-up link still confirms what it already presigned; a confirmed upload keeps its use.
    const kept = first.json<Presigned>();
    assert.equal((await putPresigned(kept, PDF)).status, 200);
    assert.equal((await asHolder(server, twice.token, "POST", `/v1/uploads/${kept.id}/confirm`)).status, 200);
    assert.deepEqual(refusal(await asHolder(server, twice.token, "DELETE", `/v1/uploads/${kept.id}`)), { status: 403, code: "FORBIDDEN" }, "a holder cannot delete a confirmed upload");
    assert.deepEqual(refusal(await presign()), { status: 403, code: "LINK_USED_UP" });
    const quota = await quotaOf(server, creator);
    assert.deepEqual([quota.usedBytes, quota.reservedBytes, quota.pendingUploads], [PDF.length, PDF.length, 1]);
  });

  it("revoked mid-flow: DELETE answers 204 (twice), the pending upload is rejected and can no longer be confirmed, nothing stays reserved", async () => {
    const creator = user("revoker");
    const doomed = await link(server, creator);
    const kept = await holderUpload(server, doomed.token);
    const pending = await holderPresignAndPut(server, doomed.token, PDF);
    const unsent = (await asHolder(server, doomed.token, "POST", "/v1/uploads", pdfFile)).json<Presigned>();
    let quota = await quotaOf(server, creator);
    assert.deepEqual([quota.usedBytes, quota.reservedBytes, quota.pendingUploads], [PDF.length, 2 * PDF.length, 2]);

    assert.equal((await server.api("DELETE", `/v1/upload-links/${doomed.id}`, { as: creator })).status, 204);
    assert.equal((await server.api("DELETE", `/v1/upload-links/${doomed.id}`, { as: creator })).status, 204, "revoking again");
    assert.equal((await putPresigned(unsent, PDF)).status, 412, "a URL handed out before the revocation lands nothing");

    assert.deepEqual(refusal(await asHolder(server, doomed.token, "POST", `/v1/uploads/${pending.id}/confirm`)), { status: 410, code: "LINK_REVOKED" });
    const rejected = (await server.api("GET", `/v1/uploads/${pending.id}`, { as: creator })).json();
    assert.equal(rejected.status, "rejected");
    assert.equal(rejected.rejection?.code, "LINK_REVOKED");
    assert.notEqual((await confirm(server, creator, pending.id)).status, 200, "not even its creator confirms it");
    assert.equal((await server.api("GET", `/v1/uploads/${pending.id}`, { as: creator })).json().status, "rejected");
    quota = await quotaOf(server, creator);
    assert.deepEqual([quota.usedBytes, quota.reservedBytes, quota.pendingUploads], [PDF.length, 0, 0], "the confirmed one stays charged, nothing reserved");
    assert.equal((await server.api("GET", `/v1/uploads/${unsent.id}`, { as: creator })).json().status, "rejected");
    assert.equal((await server.api("GET", `/v1/uploads/${kept.id}`, { as: creator })).json().status, "confirmed", "confirmed uploads stay");

    assert.deepEqual(refusal(await asHolder(server, doomed.token, "POST", "/v1/uploads", pdfFile)), { status: 410, code: "LINK_REVOKED" });
    assert.deepEqual(refusal(await asHolder(server, doomed.token, "GET", `/v1/uploads/${kept.id}`)), { status: 410, code: "LINK_REVOKED" }, "every request with its token");
    const view = await viewOf(server, creator, doomed.id);
    assert.equal(view.status, "revoked");
    assert.ok(!Number.isNaN(Date.parse(view.revokedAt)), `revokedAt ${view.revokedAt}`);
  });

  it("expires: every request with an expired link's token answers 410 LINK_EXPIRED", async (t) => {
    const creator = user("expirer");
    const brief = await link(server, creator, { expiresInSeconds: 60 });
    const pending = await holderPresignAndPut(server, brief.token, PDF);
    // No clock can be handed to the runtime: Date itself is moved on, for this process (the server
    // runs in it) and for this test only. Timers stay real.
    t.mock.timers.enable({ apis: ["Date"], now: Date.now() + 61_000 });
    assert.deepEqual(refusal(await asHolder(server, brief.token, "POST", "/v1/uploads", pdfFile)), { status: 410, code: "LINK_EXPIRED" });
    assert.deepEqual(refusal(await asHolder(server, brief.token, "POST", `/v1/uploads/${pending.id}/confirm`)), { status: 410, code: "LINK_EXPIRED" });
    assert.deepEqual(refusal(await asHolder(server, brief.token, "GET", `/v1/uploads/${pending.id}`)), { status: 410, code: "LINK_EXPIRED" });
    assert.deepEqual(refusal(await asHolder(server, brief.token, "GET", "/v1/policies")), { status: 410, code: "LINK_EXPIRED" });
    assert.equal((await viewOf(server, creator, brief.id)).status, "expired");
    t.mock.timers.reset();
  });

  it("counts a pending upload only while its URL is unexpired: one whose URL expired gives its use back", async (t) => {
    const creator = user("lapsed");
    const once = await link(server, creator, { maxUses: 1 });
    const presign = () => asHolder(server, once.token, "POST", "/v1/uploads", pdfFile);
    assert.equal((await presign()).status, 201);
    assert.deepEqual(refusal(await presign()), { status: 403, code: "LINK_USED_UP" });
    // The document policy's URLs live 15 minutes; the link an hour. Only holder requests while
    // Date is moved on (the creator's test token lives 10 minutes).
    t.mock.timers.enable({ apis: ["Date"], now: Date.now() + 16 * 60_000 });
    const again = await presign();
    assert.equal(again.status, 201, again.body.toString());
    assert.deepEqual(refusal(await presign()), { status: 403, code: "LINK_USED_UP" });
    t.mock.timers.reset();
  });

  it("takes a use again for a late confirm (its URL expired), under the link's lock: never more than maxUses confirmed", async (t) => {
    const creator = user("late");
    const once = await link(server, creator, { maxUses: 1 });
    const first = await holderPresignAndPut(server, once.token, PDF);
    const lone = await link(server, creator, { maxUses: 1 });
    const alone = await holderPresignAndPut(server, lone.token, PDF);
    // Past both URLs (15 minutes): their uses went back.
    t.mock.timers.enable({ apis: ["Date"], now: Date.now() + 16 * 60_000 });
    await holderUpload(server, once.token);
    const late = await asHolder(server, once.token, "POST", `/v1/uploads/${first.id}/confirm`);
    assert.deepEqual(refusal(late), { status: 403, code: "LINK_USED_UP" }, "the link's one use is taken by the second upload");
    const refused = (await asHolder(server, once.token, "GET", `/v1/uploads/${first.id}`)).json();
    assert.deepEqual([refused.status, refused.rejection?.code], ["rejected", "LINK_USED_UP"]);
    // A late confirm with the use still free goes through.
    assert.equal((await asHolder(server, lone.token, "POST", `/v1/uploads/${alone.id}/confirm`)).status, 200);
    t.mock.timers.reset();
    assert.equal((await viewOf(server, creator, once.id)).uses, 1);
    const quota = await quotaOf(server, creator);
    assert.deepEqual([quota.usedBytes, quota.reservedBytes, quota.pendingUploads], [2 * PDF.length, 0, 0]);
  });

  it("charges the creator's organization too", async () => {
    const creator = user("member");
    const org = user("org");
    const withOrg = await new SignJWT({ org }).setProtectedHeader({ alg: "HS256" }).setSubject(creator).setExpirationTime("10m")
      .sign(new TextEncoder().encode(JWT_SECRET));
    const res = await server.api("POST", "/v1/upload-links", { token: withOrg, body: { ...base } });
    assert.equal(res.status, 201, res.body.toString());
    const upload = await holderUpload(server, res.json<CreatedLink>().token);
    const quota = (await server.api("GET", "/v1/quota", { token: withOrg })).json();
    assert.deepEqual([quota.usedBytes, quota.org?.id, quota.org?.usedBytes], [PDF.length, org, PDF.length]);
    assert.equal((await server.api("DELETE", `/v1/uploads/${upload.id}`, { token: withOrg })).status, 204, "the creator deletes it as their own");
    const after = (await server.api("GET", "/v1/quota", { token: withOrg })).json();
    assert.deepEqual([after.usedBytes, after.org?.usedBytes], [0, 0]);
  });

  it("answers a wrong token, a malformed one and one for a link that does not exist the same 401", async () => {
    const creator = user("guarded");
    const real = await link(server, creator);
    const tokens = [wrongSecret(real.token), "not-a-token", madeUpLinkToken(real.token), `${real.token}x`];
    const bodies = [];
    for (const token of tokens) {
      for (const [method, path] of [["POST", "/v1/uploads"], ["GET", `/v1/uploads/${randomUUID()}`]] as const) {
        const res = await asHolder(server, token, method, path, method === "POST" ? pdfFile : undefined);
        assert.equal(res.status, 401, `${method} ${path}: ${res.body.toString()}`);
        assert.deepEqual(res.json().error, { code: "UNAUTHENTICATED", message: INVALID_LINK });
        // Never cached: a browser caches a GET by URL alone, so one token's refusal would answer for the next.
        assert.equal(res.headers["cache-control"], "no-store", `${method} ${path}`);
        bodies.push(res.body.toString());
      }
    }
    assert.equal(new Set(bodies).size, 1, "indistinguishable");
    assert.equal((await viewOf(server, creator, real.id)).uses, 0);
  });

  it("lets a holder upload only: every other route answers 401, and every upload not made through its link 404", async () => {
    const creator = user("fenced");
    const mine = await link(server, creator);
    const sibling = await link(server, creator);
    const ownUpload = await holderUpload(server, mine.token);
    const ownPending = await holderPresignAndPut(server, mine.token, PDF);
    const siblingUpload = await holderUpload(server, sibling.token);
    const creatorsOwn = await presignAndPut(server, creator, PDF, { contentType: "application/pdf" });
    assert.equal((await confirm(server, creator, creatorsOwn.id)).status, 200);
    const creatorsPending = await presignAndPut(server, creator, PDF, { contentType: "application/pdf" });
    const stranger = user("stranger");
    const strangers = await presignAndPut(server, stranger, PDF, { contentType: "application/pdf" });
    const holder = (method: string, path: string, body?: unknown) => asHolder(server, mine.token, method, path, body);

    const parent = { type: "message", id: "m-1" };
    const unauthenticated: [string, string, unknown?][] = [
      ["GET", "/v1/uploads"],
      ["GET", "/v1/uploads?ownerType=document"],
      ["GET", "/v1/quota"],
      ["POST", "/v1/uploads/attach", { uploadIds: [ownUpload.id], parent }],
      ["GET", `/v1/uploads/${ownUpload.id}/download`],
      ["GET", `/v1/uploads/${ownUpload.id}/download?redirect=true`],
      ["POST", "/v1/upload-links", { ownerType: "document", expiresInSeconds: 3600, maxUses: 5 }],
      ["GET", "/v1/upload-links"],
      ["GET", `/v1/upload-links/${mine.id}`],
      ["GET", `/v1/upload-links/${sibling.id}`],
      ["DELETE", `/v1/upload-links/${sibling.id}`],
      ["DELETE", `/v1/upload-links/${mine.id}`],
    ];
    for (const [method, path, body] of unauthenticated) {
      assert.deepEqual(refusal(await holder(method, path, body)), { status: 401, code: "UNAUTHENTICATED" }, `${method} ${path}`);
    }
    assert.equal((await viewOf(server, creator, mine.id)).status, "active", "the holder revoked nothing");
    assert.equal((await viewOf(server, creator, sibling.id)).status, "active");
    assert.equal((await server.api("GET", `/v1/uploads/${ownUpload.id}`, { as: creator })).json().parent, undefined, "attached nothing");

    const notMine: [string, string][] = [
      ["another link's upload", siblingUpload.id],
      ["the creator's own confirmed upload", creatorsOwn.id],
      ["the creator's own pending upload", creatorsPending.id],
      ["another user's upload", strangers.id],
      ["an upload that does not exist", randomUUID()],
    ];
    for (const [what, id] of notMine) {
      const calls: [string, string, unknown?][] = [
        ["GET", `/v1/uploads/${id}`],
        ["POST", `/v1/uploads/${id}/confirm`],
        ["DELETE", `/v1/uploads/${id}`],
        ["GET", `/v1/uploads/${id}/parts`],
        ["POST", `/v1/uploads/${id}/parts`, { partNumbers: [1] }],
      ];
      for (const [method, path, body] of calls) {
        assert.deepEqual(refusal(await holder(method, path, body)), { status: 404, code: "NOT_FOUND" }, `${what}: ${method} ${path}`);
      }
    }
    const statuses = await Promise.all([
      server.api("GET", `/v1/uploads/${siblingUpload.id}`, { as: creator }),
      server.api("GET", `/v1/uploads/${creatorsOwn.id}`, { as: creator }),
      server.api("GET", `/v1/uploads/${creatorsPending.id}`, { as: creator }),
      server.api("GET", `/v1/uploads/${strangers.id}`, { as: stranger }),
    ]);
    assert.deepEqual(statuses.map((r) => r.json().status), ["confirmed", "confirmed", "pending", "pending"], "untouched");

    // What is its own, it may read, and abort while pending.
    assert.equal((await holder("GET", `/v1/uploads/${ownUpload.id}`)).status, 200);
    assert.equal((await holder("DELETE", `/v1/uploads/${ownPending.id}`)).status, 204);
    assert.deepEqual(refusal(await holder("DELETE", `/v1/uploads/${ownUpload.id}`)), { status: 403, code: "FORBIDDEN" });
  });

  it("works through GraphQL with the UploadLink header: presign and confirm; anything else answers UNAUTHENTICATED", async () => {
    const creator = user("graph");
    const graphLink = await link(server, creator);
    const gql = async (token: string, query: string, variables: Record<string, unknown> = {}) => {
      const res = await asHolder(server, token, "POST", "/graphql", { query, variables });
      return { status: res.status, body: res.json() };
    };
    const generate = "mutation($f: FileInfo!) { generateUploadUrl(fileInfo: $f) { uploadId objectKey url headers { name value } } }";
    const presigned = await gql(graphLink.token, generate, { f: pdfFile });
    assert.equal(presigned.body.errors, undefined, JSON.stringify(presigned.body));
    const ticket = presigned.body.data.generateUploadUrl;
    assert.ok(ticket.objectKey.startsWith(`documents/${creator}/`), ticket.objectKey);
    const headers = Object.fromEntries(ticket.headers.map((h: { name: string; value: string }) => [h.name, h.value]));
    assert.equal((await putPresigned({ url: ticket.url, headers }, PDF)).status, 200);
    const confirmed = await gql(graphLink.token, "mutation($id: ID) { confirmMediaUpload(uploadId: $id) { success upload { id status size } } }", { id: ticket.uploadId });
    assert.equal(confirmed.body.errors, undefined, JSON.stringify(confirmed.body));
    assert.deepEqual(confirmed.body.data.confirmMediaUpload, { success: true, upload: { id: ticket.uploadId, status: "confirmed", size: PDF.length } });
    assert.equal((await server.api("GET", `/v1/uploads/${ticket.uploadId}`, { as: creator })).json().linkId, graphLink.id);
    assert.equal((await quotaOf(server, creator)).usedBytes, PDF.length);

    const refused = await gql(graphLink.token, generate, { f: { ...pdfFile, ownerType: "avatar", contentType: "image/png" } });
    assert.equal(refused.body.errors?.[0]?.extensions.code, "FORBIDDEN", "another owner type");
    const notAllowed = [
      "{ quota { usedBytes } }",
      "{ uploads { items { id } } }",
      `{ downloadUrl(id: "${ticket.uploadId}") { url } }`,
      `mutation { attachUploads(uploadIds: ["${ticket.uploadId}"], parentType: "message", parentId: "m-1") { id } }`,
    ];
    for (const query of notAllowed) {
      const answer = await gql(graphLink.token, query);
      assert.equal(answer.body.errors?.[0]?.extensions.code, "UNAUTHENTICATED", query);
      assert.ok(answer.body.data === null || answer.body.data === undefined, `${query}: ${JSON.stringify(answer.body.data)}`);
    }
    const wrong = await gql(wrongSecret(graphLink.token), generate, { f: pdfFile });
    assert.equal(wrong.body.errors?.[0]?.extensions.code, "UNAUTHENTICATED");
    assert.equal(wrong.body.errors?.[0]?.message, INVALID_LINK);
    assert.equal((await viewOf(server, creator, graphLink.id)).uses, 1);
  });

  it("uploads a signed_pdf into the compliance bucket under retention: the creator's DELETE answers 409 RETENTION_ACTIVE", async () => {
    const creator = user("notary");
    const signing = await link(server, creator, { ownerType: "signed_pdf", maxUses: 1 });
    const record = await holderUpload(server, signing.token, PDF, { ownerType: "signed_pdf", filename: "signed.pdf" });
    assert.ok(record.key.startsWith("signed-pdfs/"), record.key);
    assert.ok(existsSync(join(server.dataDir, "storage", "objects", "compliance", record.key)), "in the compliance bucket");
    const shown = (await server.api("GET", `/v1/uploads/${record.id}`, { as: creator })).json();
    assert.deepEqual([shown.status, shown.linkId], ["confirmed", signing.id]);
    assert.ok(Date.parse(shown.retainUntil) > Date.now() + 365 * 24 * 3600_000, `retainUntil ${shown.retainUntil}`);
    const del = await server.api("DELETE", `/v1/uploads/${record.id}`, { as: creator });
    assert.deepEqual(refusal(del), { status: 409, code: "RETENTION_ACTIVE" });
    assert.deepEqual(refusal(await asHolder(server, signing.token, "DELETE", `/v1/uploads/${record.id}`)), { status: 403, code: "FORBIDDEN" });
    assert.equal((await server.api("GET", `/v1/uploads/${record.id}`, { as: creator })).json().status, "confirmed");
  });

  it("sends, does not read: a holder's confirm of a private upload carries no URL (again: none); a public one's is public anyway", async () => {
    const creator = user("reader");
    const signing = await link(server, creator, { ownerType: "signed_pdf", maxUses: 1 });
    const ticket = await holderPresignAndPut(server, signing.token, PDF, { ownerType: "signed_pdf" });
    for (let i = 0; i < 2; i++) {
      const confirmed = await asHolder(server, signing.token, "POST", `/v1/uploads/${ticket.id}/confirm`);
      assert.equal(confirmed.status, 200);
      assert.deepEqual(Object.keys(confirmed.json()).sort(), ["contentType", "id", "size", "status"], confirmed.body.toString());
    }
    const own = await server.api("POST", `/v1/uploads/${ticket.id}/confirm`, { as: creator });
    assert.match(own.json().url, /^http/, "the creator reads it");
    const avatar = await link(server, creator, { ownerType: "avatar", maxUses: 1 });
    const face = await holderPresignAndPut(server, avatar.token, PNG, { ownerType: "avatar", contentType: "image/png" });
    const shown = await asHolder(server, avatar.token, "POST", `/v1/uploads/${face.id}/confirm`);
    assert.match(shown.json().url, /^http/, "a public owner type's URL is public");
  });
});

/** The real runtime as `startStowage` builds it, with a logger whose every line this test keeps. */
async function startWithCapturedLogs(env: Record<string, string>) {
  const dataDir = await mkdtemp(join(tmpdir(), "stowage-links-logs-"));
  const port = await freePort();
  const config = loadConfig({
    STOWAGE_PORT: String(port),
    STOWAGE_DATA_DIR: dataDir,
    STOWAGE_JWT_SECRET: JWT_SECRET,
    STOWAGE_SIGNING_SECRET: "test-signing-secret-that-is-long-enough-0123",
    LOG_LEVEL: "trace",
    ...env,
  }, dataDir, SERVE_SECRETS);
  const lines: string[] = [];
  let partial = "";
  const destination = {
    write(chunk: string) {
      const text = partial + chunk;
      const parts = text.split("\n");
      partial = parts.pop() ?? "";
      lines.push(...parts);
    },
  };
  const runtime: Runtime = await createRuntime(config, createLogger("trace", destination));
  await runtime.listen();
  runtime.startWorkers();
  return {
    baseUrl: config.baseUrl,
    lines: () => (partial === "" ? lines : [...lines, partial]),
    async close() {
      await runtime.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

describe("upload link tokens in the logs", () => {
  let server: Awaited<ReturnType<typeof startWithCapturedLogs>>;
  before(async () => {
    server = await startWithCapturedLogs({});
  });
  after(async () => server.close());

  it("never appear in a log line, whether the request succeeds or fails", async () => {
    const creator = await mintToken({ secret: JWT_SECRET, subject: "logged", expiresInSeconds: 600 });
    const call = (method: string, path: string, authorization: string, body?: string, contentType = "application/json") =>
      rawRequest(`${server.baseUrl}${path}`, {
        method,
        headers: { authorization, ...(body === undefined ? {} : { "content-type": contentType }) },
        ...(body === undefined ? {} : { body }),
      });
    const created = await call("POST", "/v1/upload-links", `Bearer ${creator}`, JSON.stringify({ ownerType: "document", expiresInSeconds: 3600, maxUses: 5 }));
    assert.equal(created.status, 201, created.body.toString());
    const { id, token } = created.json<CreatedLink>();
    const holder = `UploadLink ${token}`;
    const wrong = wrongSecret(token);

    const presigned = await call("POST", "/v1/uploads", holder, JSON.stringify(pdfFile));
    assert.equal(presigned.status, 201, presigned.body.toString());
    const ticket = presigned.json<Presigned>();
    assert.equal((await putPresigned(ticket, PDF)).status, 200);
    assert.equal((await call("POST", `/v1/uploads/${ticket.id}/confirm`, holder)).status, 200);
    const failing: [string, string, string, string?, string?][] = [
      ["POST", "/v1/uploads", holder, JSON.stringify({ ownerType: "document" })],
      ["POST", "/v1/uploads", holder, "{ not json"],
      ["POST", "/v1/uploads", holder, "plain text", "text/plain"],
      ["POST", "/v1/uploads", holder, JSON.stringify({ ...pdfFile, contentType: "application/x-msdownload" })],
      ["GET", "/v1/quota", holder],
      ["GET", "/v1/uploads", holder],
      ["GET", "/v1/upload-links", holder],
      ["GET", "/v1/no-such-route", holder],
      ["POST", `/v1/uploads/${randomUUID()}/confirm`, holder],
      ["GET", "/v1/uploads/not-an-id", holder],
      ["POST", "/v1/uploads", `UploadLink ${wrong}`, JSON.stringify(pdfFile)],
      ["POST", "/v1/uploads", `UploadLink ${token} extra`, JSON.stringify(pdfFile)],
      ["POST", "/graphql", holder, JSON.stringify({ query: "{ quota { usedBytes } }" })],
      ["POST", "/graphql", holder, JSON.stringify({ query: "{ upload(" })],
    ];
    for (const [method, path, authorization, body, contentType] of failing) {
      const res = await call(method, path, authorization, body, contentType);
      assert.ok(res.status >= 400 || path === "/graphql", `${method} ${path} should fail: ${res.status}`);
    }
    assert.equal((await call("DELETE", `/v1/upload-links/${id}`, `Bearer ${creator}`)).status, 204);
    assert.equal((await call("POST", "/v1/uploads", holder, JSON.stringify(pdfFile))).status, 410);

    const lines = server.lines();
    // The capture works: the refused requests were logged, with their status.
    assert.ok(lines.some((line) => line.includes("\"statusCode\":401")), `no 401 logged in ${lines.length} lines`);
    assert.ok(lines.some((line) => line.includes("\"statusCode\":410")), "the revoked link's refusal was logged");
    const { secret } = tokenParts(token);
    const leaks = lines.filter((line) => line.includes(token) || line.includes(secret) || line.includes(tokenParts(wrong).secret));
    assert.deepEqual(leaks, [], "a token in a log line");
  });
});

describe("upload link rate limits", () => {
  it("refuses the presign beyond STOWAGE_LINK_RATE_LIMIT per link with 429 RATE_LIMITED and Retry-After", async () => {
    const server = await startStowage({ STOWAGE_LINK_RATE_LIMIT: "3", STOWAGE_LINK_ADDRESS_RATE_LIMIT: "1000" });
    try {
      const creator = user("hasty");
      const busy = await link(server, creator, { maxUses: 10 });
      const statuses = [];
      let last: RawResponse | undefined;
      for (let i = 0; i < 4; i++) {
        last = await asHolder(server, busy.token, "POST", "/v1/uploads", pdfFile);
        statuses.push(last.status);
      }
      assert.deepEqual(statuses, [201, 201, 201, 429]);
      assert.equal(last?.json().error.code, "RATE_LIMITED");
      const retryAfter = Number(last?.headers["retry-after"]);
      assert.ok(retryAfter >= 1 && retryAfter <= 60, `Retry-After ${last?.headers["retry-after"]}`);
      assert.equal((await viewOf(server, creator, busy.id)).uses, 3, "the refused presign took no use");
      const other = await link(server, creator, { maxUses: 10 });
      assert.equal((await asHolder(server, other.token, "POST", "/v1/uploads", pdfFile)).status, 201, "per link");
      assert.equal((await server.api("POST", "/v1/uploads", { as: creator, body: pdfFile })).status, 201, "the creator's own presigns are not the link's");
    } finally {
      await server.close();
    }
  });

  it("counts per client address behind a trusted proxy (STOWAGE_TRUST_PROXY): X-Forwarded-For names the client", async () => {
    const server = await startStowage({ STOWAGE_LINK_ADDRESS_RATE_LIMIT: "2", STOWAGE_TRUST_PROXY: "127.0.0.1" });
    try {
      const real = await link(server, user("proxied"));
      const from = (address: string) =>
        server.api("GET", "/v1/policies", { headers: { authorization: `UploadLink ${real.token}`, "x-forwarded-for": address } });
      const statuses = [];
      for (const address of ["203.0.113.1", "203.0.113.1", "203.0.113.1", "203.0.113.2", "203.0.113.2"]) statuses.push((await from(address)).status);
      assert.deepEqual(statuses, [200, 200, 429, 200, 200], "each client address has its own budget");
    } finally {
      await server.close();
    }
  });

  it("tells a holder there is no room, never the creator's quota figures", async () => {
    const server = await startStowage({ STOWAGE_DEFAULT_QUOTA_BYTES: String(PDF.length) });
    try {
      const creator = user("full");
      const room = await link(server, creator);
      assert.equal((await asHolder(server, room.token, "POST", "/v1/uploads", pdfFile)).status, 201);
      const refused = await asHolder(server, room.token, "POST", "/v1/uploads", pdfFile);
      assert.deepEqual(refusal(refused), { status: 413, code: "QUOTA_EXCEEDED" });
      assert.equal(refused.json().error.details, undefined, refused.body.toString());
      assert.doesNotMatch(refused.body.toString(), new RegExp(String(PDF.length)), "no byte counts");
      const own = await server.api("POST", "/v1/uploads", { as: creator, body: pdfFile });
      assert.equal(own.json().error.details.limitBytes, PDF.length, "the creator still sees its own figures");
    } finally {
      await server.close();
    }
  });

  it("refuses link requests beyond STOWAGE_LINK_ADDRESS_RATE_LIMIT per address, wrong tokens counted", async () => {
    const server = await startStowage({ STOWAGE_LINK_RATE_LIMIT: "1000", STOWAGE_LINK_ADDRESS_RATE_LIMIT: "5" });
    try {
      const creator = user("probed");
      const real = await link(server, creator);
      const statuses = [];
      let last: RawResponse | undefined;
      for (let i = 0; i < 6; i++) {
        last = await asHolder(server, wrongSecret(real.token), "POST", "/v1/uploads", pdfFile);
        statuses.push(last.status);
      }
      assert.deepEqual(statuses, [401, 401, 401, 401, 401, 429]);
      assert.equal(last?.json().error.code, "RATE_LIMITED");
      assert.ok(Number(last?.headers["retry-after"]) >= 1, `Retry-After ${last?.headers["retry-after"]}`);
      const genuine = await asHolder(server, real.token, "POST", "/v1/uploads", pdfFile);
      assert.deepEqual(refusal(genuine), { status: 429, code: "RATE_LIMITED" }, "the address is limited, whatever token it sends");
      assert.equal((await server.api("GET", "/v1/upload-links", { as: creator })).status, 200, "bearer requests are not link requests");
      assert.equal((await viewOf(server, creator, real.id)).uses, 0);
    } finally {
      await server.close();
    }
  });
});

describe("a revoked link's multipart upload", () => {
  it("is aborted with the revocation: parts handed out before land nothing, and the parts already sent are gone", async () => {
    const dir = mkdtempSync(join(tmpdir(), "stowage-links-multipart-"));
    const configFile = join(dir, "stowage.config.json");
    writeFileSync(configFile, JSON.stringify({ policies: { document: { multipartThresholdBytes: 5 * 1024 * 1024 } } }));
    const server = await startStowage({ STOWAGE_CONFIG_FILE: configFile });
    try {
      const creator = user("parted");
      const doomed = await link(server, creator);
      const size = 6 * 1024 * 1024;
      const plan = (await asHolder(server, doomed.token, "POST", "/v1/uploads", { ...pdfFile, size })).json();
      assert.equal(plan.kind, "multipart", JSON.stringify(plan).slice(0, 300));
      const [first, second] = plan.multipart.parts as { partNumber: number; url: string; headers: Record<string, string> }[];
      assert.ok(first !== undefined && second !== undefined);
      const body = Buffer.alloc(size, 0x20);
      const part = (n: number) => body.subarray((n - 1) * plan.multipart.partSize, n * plan.multipart.partSize);
      assert.equal((await rawRequest(first.url, { method: "PUT", headers: first.headers, body: part(1) })).status, 200);
      const held = join(server.dataDir, "storage", "tmp", "multipart");
      assert.ok(existsSync(held) && readdirSync(held).length === 1, "the first part is held");

      assert.equal((await server.api("DELETE", `/v1/upload-links/${doomed.id}`, { as: creator })).status, 204);
      const late = await rawRequest(second.url, { method: "PUT", headers: second.headers, body: part(2) });
      assert.ok(late.status >= 400, `a part after the revocation: ${late.status} ${late.body.toString()}`);
      assert.deepEqual(readdirSync(held), [], "the parts sent before it are gone too");
    } finally {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { PNG } from "../helpers/fixtures.js";
import { putPresigned } from "../helpers/http.js";
import { startStowage, type TestServer } from "../helpers/server.js";
import { graphqlSurface, restSurface, type Surface } from "../helpers/surfaces.js";

const avatar = (size: number, extra: Record<string, unknown> = {}) => ({ ownerType: "avatar", filename: "me.png", contentType: "image/png", size, ...extra });

/** The same behaviour, whichever surface a client uses: REST or GraphQL. */
for (const make of [restSurface, graphqlSurface]) {
  describe(`shared behaviour over ${make.name === "restSurface" ? "REST" : "GraphQL"}`, () => {
    let server: TestServer;
    let api: Surface;
    before(async () => {
      server = await startStowage();
      api = make(server);
    });
    after(async () => server.close());

    it("presigns, uploads, confirms (idempotently), reads and deletes", async () => {
      const ticket = await api.presign("alice", avatar(PNG.length));
      assert.ok(ticket.ok, JSON.stringify(ticket));
      assert.deepEqual(await api.quota("alice"), { ok: true, value: { usedBytes: 0, reservedBytes: PNG.length } });
      assert.equal((await putPresigned(ticket.value, PNG)).status, 200);
      const first = await api.confirm("alice", ticket.value.id);
      assert.ok(first.ok, JSON.stringify(first));
      assert.equal(first.value.size, PNG.length);
      assert.equal(first.value.contentType, "image/png");
      assert.ok(first.value.url.endsWith(ticket.value.key));
      assert.deepEqual(await api.confirm("alice", ticket.value.id), first);
      assert.deepEqual(await api.quota("alice"), { ok: true, value: { usedBytes: PNG.length, reservedBytes: 0 } });
      const got = await api.get("alice", ticket.value.id);
      assert.ok(got.ok && got.value.status === "confirmed");
      assert.ok((await api.remove("alice", ticket.value.id)).ok);
      assert.deepEqual(await api.quota("alice"), { ok: true, value: { usedBytes: 0, reservedBytes: 0 } });
    });

    it("refuses by the same codes and fields", async () => {
      const refusal = async (input: Record<string, unknown>) => {
        const outcome = await api.presign("carol", input);
        assert.ok(!outcome.ok, JSON.stringify(outcome));
        return { code: outcome.code, field: outcome.field };
      };
      assert.deepEqual(await refusal(avatar(10 ** 9)), { code: "FILE_TOO_LARGE", field: undefined });
      assert.deepEqual(await refusal(avatar(5, { contentType: "text/html" })), { code: "CONTENT_TYPE_NOT_ALLOWED", field: undefined });
      assert.deepEqual(await refusal(avatar(5, { ownerType: "nope" })), { code: "UNKNOWN_OWNER_TYPE", field: undefined });
      assert.deepEqual(await refusal({ ownerType: "chat_upload", filename: "a.png", contentType: "image/png", size: 5 }), {
        code: "OWNER_ID_REQUIRED",
        field: undefined,
      });
      const bad = await refusal(avatar(5, { ownerId: "../../etc" }));
      assert.equal(bad.code, "INVALID_REQUEST");
      assert.match(bad.field ?? "", /ownerId$/);
      const zero = await refusal(avatar(0));
      assert.equal(zero.code, "INVALID_REQUEST");
      assert.match(zero.field ?? "", /size$/);
    });

    it("rejects spoofed bytes at confirm", async () => {
      const ticket = await api.presign("dave", avatar(64));
      assert.ok(ticket.ok);
      assert.equal((await putPresigned(ticket.value, Buffer.alloc(64, "<"))).status, 200);
      const refused = await api.confirm("dave", ticket.value.id);
      assert.ok(!refused.ok);
      assert.equal(refused.code, "CONTENT_TYPE_MISMATCH");
      const got = await api.get("dave", ticket.value.id);
      assert.ok(got.ok && got.value.status === "rejected");
    });

    it("keeps one user's uploads from another: not found, whatever the operation", async () => {
      const ticket = await api.presign("erin", avatar(PNG.length));
      assert.ok(ticket.ok);
      await putPresigned(ticket.value, PNG);
      for (const outcome of [await api.confirm("mallory", ticket.value.id), await api.get("mallory", ticket.value.id), await api.remove("mallory", ticket.value.id)]) {
        assert.ok(!outcome.ok);
        assert.equal(outcome.code, "NOT_FOUND");
      }
      assert.ok((await api.confirm("erin", ticket.value.id)).ok);
    });

    it("refuses a caller without a valid token", async () => {
      const outcome = await api.presign(undefined, avatar(5));
      assert.ok(!outcome.ok);
      assert.equal(outcome.code, "UNAUTHENTICATED");
      assert.equal(outcome.status, 401);
    });
  });
}

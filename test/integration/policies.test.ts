import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { startStowage, type TestServer } from "../helpers/server.js";
import { graphql } from "../helpers/surfaces.js";

describe("GET /v1/policies and the policies query: what a client checks before any byte moves", () => {
  let server: TestServer;
  const dir = mkdtempSync(join(tmpdir(), "stowage-policies-"));
  before(async () => {
    const config = join(dir, "stowage.config.json");
    writeFileSync(config, JSON.stringify({
      policies: {
        avatar: { maxBytes: 2_000_000 },
        invoice: {
          allowedTypes: ["application/pdf"], maxBytes: 10_000_000, urlTtlSeconds: 600, keyTemplate: "invoices/{ownerId}/{id}.{ext}",
          bucket: "private", visibility: "private", allowedRoles: ["billing"], multipartThresholdBytes: 5 * 1024 * 1024,
        },
      },
    }));
    server = await startStowage({ STOWAGE_CONFIG_FILE: config });
  });
  after(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("lists the owner types a caller may use, with their limits, and nothing of the others", async () => {
    const plain = (await server.api("GET", "/v1/policies", { as: "alice" })).json();
    const byType = new Map(plain.items.map((p: { ownerType: string }) => [p.ownerType, p]));
    assert.ok(!byType.has("invoice"), "a role-gated owner type is not shown to a caller without the role");
    assert.deepEqual(byType.get("avatar"), {
      ownerType: "avatar", allowedTypes: ["image/jpeg", "image/png"], maxBytes: 2_000_000, visibility: "public", ownerIdRequired: false,
      multipartThresholdBytes: 100 * 1024 * 1024,
    });
    assert.equal((byType.get("chat_upload") as { ownerIdRequired: boolean }).ownerIdRequired, true);

    const billing = await server.token("bob", { roles: ["billing"] });
    const withRole = (await server.api("GET", "/v1/policies", { token: billing })).json();
    const invoice = withRole.items.find((p: { ownerType: string }) => p.ownerType === "invoice");
    assert.deepEqual(invoice, {
      ownerType: "invoice", allowedTypes: ["application/pdf"], maxBytes: 10_000_000, visibility: "private", ownerIdRequired: true,
      multipartThresholdBytes: 5 * 1024 * 1024,
    });
    for (const item of withRole.items) assert.deepEqual(Object.keys(item).sort(), Object.keys(invoice).sort(), "no bucket, key template or secret");
    assert.equal((await server.api("GET", "/v1/policies")).status, 401);
  });

  it("answers the same through GraphQL", async () => {
    const rest = (await server.api("GET", "/v1/policies", { as: "carol" })).json().items;
    const { body } = await graphql(server, "carol", "{ policies { ownerType allowedTypes maxBytes visibility ownerIdRequired multipartThresholdBytes } }");
    assert.deepEqual(body.data.policies, rest);
  });
});

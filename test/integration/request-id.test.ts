import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { startStowage, type TestServer } from "../helpers/server.js";

describe("X-Request-Id", () => {
  let server: TestServer;
  before(async () => {
    server = await startStowage();
  });
  after(() => server.close());

  it("is on every answer: success, refusal and unknown route; a well-formed one given is echoed", async () => {
    const answers = await Promise.all([
      server.api("GET", "/v1/quota", { as: "alice" }),
      server.api("GET", "/v1/quota"),
      server.api("GET", "/no/such/route"),
      server.api("POST", "/v1/uploads", { as: "alice", headers: { "content-type": "application/json" } }),
    ]);
    assert.deepEqual(answers.map((a) => a.status), [200, 401, 404, 400]);
    const ids = answers.map((a) => a.headers["x-request-id"]);
    for (const id of ids) assert.match(String(id), /^[0-9a-f-]{36}$/);
    assert.equal(new Set(ids).size, ids.length);

    const given = await server.api("GET", "/v1/quota", { as: "alice", headers: { "x-request-id": "trace-42.a_b" } });
    assert.equal(given.headers["x-request-id"], "trace-42.a_b");
    const refused = await server.api("GET", "/v1/quota", { as: "alice", headers: { "x-request-id": "bad id with spaces" } });
    assert.match(String(refused.headers["x-request-id"]), /^[0-9a-f-]{36}$/);
  });
});

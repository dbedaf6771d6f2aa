import assert from "node:assert/strict";
import { describe, it } from "node:test";
import Fastify from "fastify";
import { createLogger } from "../logger.js";
import { OneLineRequestLog } from "./request-log.js";

/** An app logging through Stowage's logger into `lines`, with the one-line controller. */
function app(lines: Record<string, unknown>[]) {
  const logger = createLogger("info", { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
  const server = Fastify({ loggerInstance: logger, logController: new OneLineRequestLog() });
  server.get("/v1/things/:id", async () => ({ ok: true }));
  server.get("/v1/broken", async () => {
    throw Object.assign(new Error("boom"), { statusCode: 500 });
  });
  return server;
}

describe("request logging", () => {
  it("writes one line per request with its id, method, path without the query, status and time", async () => {
    const lines: Record<string, unknown>[] = [];
    const server = app(lines);
    const answer = await server.inject({ method: "GET", url: "/v1/things/7?X-Amz-Signature=secret", headers: { authorization: "Bearer t" } });
    assert.equal(answer.statusCode, 200);
    assert.equal(lines.length, 1, JSON.stringify(lines));
    const [line] = lines as [Record<string, unknown>];
    assert.equal(line.msg, "request completed");
    assert.equal(line.level, 30);
    assert.equal(typeof line.reqId, "string");
    assert.deepEqual(line.req, { id: line.reqId, method: "GET", path: "/v1/things/7" });
    assert.deepEqual(line.res, { statusCode: 200 });
    assert.equal(typeof line.responseTime, "number");
    assert.doesNotMatch(JSON.stringify(lines), /secret|Bearer/);
    await server.close();
  });

  it("still logs a failing request: Fastify's error line, and its completion at error level", async () => {
    const lines: Record<string, unknown>[] = [];
    const server = app(lines);
    assert.equal((await server.inject({ method: "GET", url: "/v1/broken" })).statusCode, 500);
    assert.ok(lines.some((line) => line.level === 50 && (line.err as { message?: string } | undefined)?.message === "boom"), JSON.stringify(lines));
    assert.ok(!lines.some((line) => line.msg === "incoming request"));
    await server.close();
  });
});

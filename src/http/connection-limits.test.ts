import assert from "node:assert/strict";
import { connect } from "node:net";
import { after, before, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import Fastify, { type FastifyInstance } from "fastify";
import { type ConnectionLimits, limitConnections, markWorking, serverOptionsOf } from "./connection-limits.js";

const LIMITS: ConnectionLimits = { requestTimeoutMs: 5000, stallTimeoutMs: 5000, idleTimeoutMs: 1000, maxConnections: 100 };
const BIG = Buffer.alloc(32 * 1024 * 1024, 1);

/** A GET over a raw socket that reads nothing until `readAfterMs`; what arrived before the close. */
async function get(port: number, path: string, readAfterMs = 0): Promise<{ bytes: number; text: string }> {
  const socket = connect(port, "127.0.0.1");
  socket.write(`GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`);
  socket.pause();
  await sleep(readAfterMs);
  let bytes = 0;
  let text = "";
  socket.on("data", (chunk: Buffer) => {
    bytes += chunk.length;
    if (text.length < 200) text += chunk.subarray(0, 200).toString("latin1");
  });
  socket.resume();
  await new Promise((resolve) => socket.on("close", resolve).on("error", () => undefined));
  return { bytes, text };
}

describe("connection limits on a real server", () => {
  let app: FastifyInstance;
  let port: number;
  before(async () => {
    app = Fastify({ ...serverOptionsOf(LIMITS) });
    limitConnections(app, LIMITS);
    markWorking(app);
    // A handler that works longer than the idle timeout without sending a byte (a big confirm).
    app.get("/slow", async (_request, reply) => {
      await sleep(2500);
      return reply.header("Connection", "close").send("done");
    });
    app.get("/big", async (_request, reply) => reply.header("Connection", "close").send(BIG));
    await app.listen({ port: 0, host: "127.0.0.1" });
    port = (app.server.address() as { port: number }).port;
  });
  after(() => app.close());

  it("does not cut a connection while its handler is working, however long", async () => {
    const { text } = await get(port, "/slow");
    assert.match(text, /^HTTP\/1\.1 200 /);
    assert.match(text, /done$/);
  });

  it("cuts a client that does not read its answer", async () => {
    // Socket buffers take a few megabytes; the rest waits on a reader that is not there.
    const { bytes } = await get(port, "/big", 3000);
    assert.ok(bytes < BIG.length, `got all ${bytes} bytes`);
  });
});

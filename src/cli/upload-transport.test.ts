import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { PutRequest, PutResponse, Transport } from "../../packages/client/src/node.js";
import { sharedTransport } from "./upload-transport.js";

/** A transport whose PUTs finish when the test says so, reporting `size` bytes as sent. */
function gated(size: number) {
  const open: (() => void)[] = [];
  let running = 0;
  let most = 0;
  const transport: Transport = (request) => {
    running += 1;
    most = Math.max(most, running);
    request.onProgress(size / 2);
    return new Promise<PutResponse>((resolve) =>
      open.push(() => {
        request.onProgress(size);
        running -= 1;
        resolve({ status: 200, header: () => null, text: "" });
      }),
    );
  };
  return { transport, finishOne: () => open.shift()?.(), most: () => most, waiting: () => open.length };
}

const request = (signal = new AbortController().signal): PutRequest => ({
  url: "http://store.invalid/x",
  headers: {},
  body: { size: 10, stream: () => new ReadableStream() },
  signal,
  stallTimeoutMs: 1000,
  onProgress: () => undefined,
});

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe("sharedTransport", () => {
  it("runs at most `limit` PUTs at once, the rest as earlier ones finish", async () => {
    const inner = gated(10);
    const { transport } = sharedTransport(inner.transport, 2);
    const all = Promise.all(Array.from({ length: 5 }, () => transport(request())));
    await tick();
    assert.equal(inner.waiting(), 2);
    for (let i = 0; i < 5; i++) {
      inner.finishOne();
      await tick();
    }
    await all;
    assert.equal(inner.most(), 2);
  });

  it("lets a PUT waiting for its turn go when its signal aborts", async () => {
    const inner = gated(10);
    const { transport } = sharedTransport(inner.transport, 1);
    const first = transport(request());
    const controller = new AbortController();
    const second = transport(request(controller.signal));
    controller.abort(new Error("paused"));
    await assert.rejects(second, /paused/);
    const third = transport(request());
    inner.finishOne();
    await first;
    await tick();
    assert.equal(inner.waiting(), 1, "the third PUT got the freed turn, not the aborted one");
    inner.finishOne();
    await third;
  });

  it("counts the bytes each upload sent, a try that starts again counting only new bytes", async () => {
    let tries = 0;
    const inner: Transport = async (req) => {
      tries += 1;
      req.onProgress(6);
      if (tries === 1) {
        req.onProgress(0);
        throw new TypeError("fetch failed");
      }
      req.onProgress(10);
      return { status: 200, header: () => null, text: "" };
    };
    const { transport, counting } = sharedTransport(inner, 4);
    const [a, b] = [{ sent: 0 }, { sent: 0 }];
    await counting(a, () => transport(request()).catch(() => transport(request())));
    await counting(b, () => transport(request()));
    assert.deepEqual([a.sent, b.sent], [16, 10]);
  });
});

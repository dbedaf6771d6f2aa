import assert from "node:assert/strict";
import { Readable } from "node:stream";
import { describe, it } from "node:test";
import { MemoryScanner } from "./memory-scanner.js";
import { ScannerUnavailableError } from "./scanner.js";

const scanner = (options: Partial<ConstructorParameters<typeof MemoryScanner>[0]> = {}) =>
  new MemoryScanner({ markers: { "TEST-MARKER": "Test.Marker" }, ...options });

describe("MemoryScanner", () => {
  it("finds a marker, also split across chunks, and reports clean bodies as clean", async () => {
    assert.deepEqual(await scanner().scan(Readable.from([Buffer.from("no marker here")])), { kind: "clean" });
    assert.deepEqual(await scanner().scan(Readable.from([Buffer.from("..TEST-MAR"), Buffer.from("KER..")])), {
      kind: "infected",
      signature: "Test.Marker",
    });
    assert.deepEqual(await scanner().scan(Readable.from(["T", "E", "S", "T", "-", "MARKER"])), { kind: "infected", signature: "Test.Marker" });
  });

  it("says too-large past maxBytes, and fails like an absent clamd when unavailable", async () => {
    assert.deepEqual(await scanner({ maxBytes: 4 }).scan(Readable.from([Buffer.from("1234")])), { kind: "clean" });
    assert.deepEqual(await scanner({ maxBytes: 4 }).scan(Readable.from([Buffer.from("12345")])), { kind: "too-large" });
    const down = scanner({ unavailable: true });
    await assert.rejects(down.scan(Readable.from(["x"])), ScannerUnavailableError);
    await assert.rejects(down.ping(), ScannerUnavailableError);
    down.unavailable = false;
    await down.ping();
  });
});

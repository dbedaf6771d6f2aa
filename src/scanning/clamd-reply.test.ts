import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { checkPingReply, parseScanReply } from "./clamd-reply.js";
import { ScannerUnavailableError } from "./scanner.js";

describe("parseScanReply", () => {
  it("reads clamd 1.4's three INSTREAM answers", () => {
    assert.deepEqual(parseScanReply("stream: OK"), { kind: "clean" });
    assert.deepEqual(parseScanReply("stream: Win.Test.EICAR_HDB-1 FOUND"), { kind: "infected", signature: "Win.Test.EICAR_HDB-1" });
    assert.deepEqual(parseScanReply("INSTREAM size limit exceeded. ERROR"), { kind: "too-large" });
  });

  it("refuses anything else as no verdict at all", () => {
    for (const reply of [
      "",
      "stream: OK ", // exact, not a prefix match
      "stream: ok",
      "stream:  FOUND",
      "stream: Can't allocate memory ERROR",
      "stream: Win.Test.EICAR_HDB-1 FOUND\nstream: OK",
      "UNKNOWN COMMAND",
      "PONG",
    ]) {
      assert.throws(() => parseScanReply(reply), ScannerUnavailableError, JSON.stringify(reply));
    }
  });
});

describe("checkPingReply", () => {
  it("takes PONG and nothing else", () => {
    checkPingReply("PONG");
    assert.throws(() => checkPingReply("PONG "), ScannerUnavailableError);
    assert.throws(() => checkPingReply("stream: OK"), ScannerUnavailableError);
  });
});

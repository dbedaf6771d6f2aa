import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { logFormatFor } from "./logger.js";

describe("logFormatFor", () => {
  it("is pretty only on a terminal outside CI", () => {
    assert.equal(logFormatFor({ isTTY: true, ci: undefined }), "pretty");
    assert.equal(logFormatFor({ isTTY: true, ci: "" }), "pretty");
    assert.equal(logFormatFor({ isTTY: true, ci: "false" }), "pretty");
    assert.equal(logFormatFor({ isTTY: true, ci: "0" }), "pretty");
    assert.equal(logFormatFor({ isTTY: true, ci: "true" }), "json");
    assert.equal(logFormatFor({ isTTY: true, ci: "1" }), "json");
    assert.equal(logFormatFor({ isTTY: false, ci: undefined }), "json");
    assert.equal(logFormatFor({ isTTY: false, ci: "true" }), "json");
  });
});

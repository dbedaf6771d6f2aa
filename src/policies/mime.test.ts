import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { extensionFor, isMimeType, normalizeMimeType } from "./mime.js";

describe("normalizeMimeType", () => {
  it("lower-cases and drops parameters and whitespace", () => {
    assert.equal(normalizeMimeType("Image/PNG; charset=x"), "image/png");
    assert.equal(normalizeMimeType("  text/plain ;charset=utf-8"), "text/plain");
    assert.equal(normalizeMimeType("APPLICATION/PDF"), "application/pdf");
  });

  it("leaves an already normal type unchanged", () => {
    assert.equal(normalizeMimeType("image/jpeg"), "image/jpeg");
  });

  it("gives an empty string for an empty or parameter-only value", () => {
    assert.equal(normalizeMimeType(""), "");
    assert.equal(normalizeMimeType("; charset=utf-8"), "");
  });
});

describe("extensionFor", () => {
  it("maps known types to their usual extension", () => {
    const expected: Record<string, string> = {
      "image/jpeg": "jpg",
      "image/png": "png",
      "application/pdf": "pdf",
      "audio/mpeg": "mp3",
      "audio/mp4": "m4a",
      "audio/webm": "webm",
      "video/quicktime": "mov",
      "text/plain": "txt",
    };
    for (const [type, ext] of Object.entries(expected)) assert.equal(extensionFor(type), ext, type);
  });

  it("falls back to bin for unknown types", () => {
    assert.equal(extensionFor("application/x-msdownload"), "bin");
    assert.equal(extensionFor(""), "bin");
  });

  it("does not resolve inherited object properties", () => {
    assert.equal(extensionFor("toString"), "bin");
    assert.equal(extensionFor("__proto__"), "bin");
  });

  it("expects a normalized type", () => {
    assert.equal(extensionFor("IMAGE/PNG"), "bin");
  });
});

describe("isMimeType", () => {
  it("accepts type/subtype shapes", () => {
    for (const value of ["image/png", "application/vnd.ms-excel", "image/svg+xml", "a/b"]) {
      assert.equal(isMimeType(value), true, value);
    }
  });

  it("refuses anything else", () => {
    const bad = [
      "",
      "image",
      "image/",
      "/png",
      "image/png/x",
      "Image/PNG",
      "image/png; charset=x",
      "image /png",
      "image/png\n",
      "-image/png",
      `image/${"a".repeat(128)}`,
    ];
    for (const value of bad) assert.equal(isMimeType(value), false, JSON.stringify(value));
  });

  it("accepts the longest allowed subtype", () => {
    assert.equal(isMimeType(`image/${"a".repeat(127)}`), true);
  });
});

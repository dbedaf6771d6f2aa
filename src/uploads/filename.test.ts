import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { sanitizeFilename } from "./filename.js";

describe("sanitizeFilename", () => {
  it("keeps an ordinary name", () => {
    assert.equal(sanitizeFilename("holiday photo (1).jpg"), "holiday photo (1).jpg");
    assert.equal(sanitizeFilename("résumé 2024.pdf"), "résumé 2024.pdf");
  });

  it("strips POSIX and Windows directory parts", () => {
    assert.equal(sanitizeFilename("../../etc/passwd"), "passwd");
    assert.equal(sanitizeFilename("C:\\x\\y.png"), "y.png");
    assert.equal(sanitizeFilename("a/b\\c/d.txt"), "d.txt");
  });

  it("drops control characters", () => {
    assert.equal(sanitizeFilename("a\u0000b\nc\r\td\u007f\u0085.txt"), "abcd.txt");
  });

  it("drops bidi overrides and marks", () => {
    assert.equal(sanitizeFilename("evil\u202Egnp.exe"), "evilgnp.exe");
    assert.equal(sanitizeFilename("\u200Ea\u200Fb\u202Ac\u2066d\u2069.txt"), "abcd.txt");
  });

  it("trims surrounding whitespace", () => {
    assert.equal(sanitizeFilename("  report.pdf \n"), "report.pdf");
  });

  it("never returns an empty or dot-only name", () => {
    for (const raw of ["", "   ", "..", ".", "a/", "dir/..", "\u202E", "\u0000\u0001"]) {
      assert.equal(sanitizeFilename(raw), "file", JSON.stringify(raw));
    }
  });

  it("truncates to 255 code points, not UTF-16 units", () => {
    const emoji = "😀"; // two UTF-16 units, one code point
    const result = sanitizeFilename(emoji.repeat(300));
    assert.equal(Array.from(result).length, 255);
    assert.equal(result.length, 510);
    assert.equal(result, emoji.repeat(255));
  });

  it("keeps exactly 255 characters and cuts the 256th", () => {
    assert.equal(sanitizeFilename("a".repeat(255)), "a".repeat(255));
    assert.equal(sanitizeFilename(`${"a".repeat(255)}b`), "a".repeat(255));
  });

  it("counts length after removing stripped characters", () => {
    const raw = `${"\u202E".repeat(10)}${"a".repeat(255)}`;
    assert.equal(sanitizeFilename(raw), "a".repeat(255));
  });
});

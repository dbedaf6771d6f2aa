import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { ERROR_STATUS } from "./errors.js";

describe("ERROR_STATUS", () => {
  it("is the README's error table, code for code and status for status", () => {
    const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
    const section = readme.slice(readme.indexOf("### Errors"), readme.indexOf("## Owner types"));
    const documented: Record<string, number> = {};
    for (const [, status, codes] of section.matchAll(/^\| (\d{3}) \| (.+) \|$/gm)) {
      // Codes are the backticked upper-case words outside parentheses (those hold examples).
      for (const [code] of (codes ?? "").replace(/\([^)]*\)/g, "").matchAll(/[A-Z][A-Z_]+/g)) documented[code] = Number(status);
    }
    assert.deepEqual(documented, { ...ERROR_STATUS });
  });
});

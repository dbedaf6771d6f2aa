import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseRetryAfter } from "./retry-after.js";

const NOW = new Date("2026-12-01T10:00:00Z");
const CAP = 3_600_000;

describe("parseRetryAfter", () => {
  it("reads seconds", () => {
    assert.equal(parseRetryAfter("120", NOW, CAP), 120_000);
    assert.equal(parseRetryAfter(" 0 ", NOW, CAP), 0);
  });

  it("reads an HTTP date, in each of the three forms RFC 9110 allows", () => {
    assert.equal(parseRetryAfter("Tue, 01 Dec 2026 10:02:00 GMT", NOW, CAP), 120_000);
    assert.equal(parseRetryAfter("Tuesday, 01-Dec-26 10:02:00 GMT", NOW, CAP), 120_000);
    assert.equal(parseRetryAfter("Tue Dec  1 10:02:00 2026", NOW, 10 * 86_400_000) !== undefined, true, "asctime (local time to Date.parse; obsolete, so only read)");
  });

  it("caps the wait, and a date already past is no wait", () => {
    assert.equal(parseRetryAfter("86400", NOW, CAP), CAP);
    assert.equal(parseRetryAfter("Wed, 01 Dec 2027 10:00:00 GMT", NOW, CAP), CAP);
    assert.equal(parseRetryAfter("Mon, 30 Nov 2026 10:00:00 GMT", NOW, CAP), 0);
  });

  it("ignores what it cannot read", () => {
    for (const value of [null, undefined, "", "soon", "-5", "1.5", "1e3", "Foo, 99 Bar 2026"]) {
      assert.equal(parseRetryAfter(value, NOW, CAP), undefined, String(value));
    }
  });
});

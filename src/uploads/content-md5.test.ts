import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isContentMd5, partMd5s } from "./content-md5.js";

const A = "XUFAKrxLKna5cZ2REBfFkg==";
const B = "1B2M2Y8AsgTpgAmY7PhCfg==";

function refusal(run: () => unknown): { code: string; field: unknown; message: string } {
  try {
    run();
  } catch (error) {
    const e = error as { code: string; details?: { field?: unknown }; message: string };
    return { code: e.code, field: e.details?.field, message: e.message };
  }
  assert.fail("accepted");
}

describe("isContentMd5", () => {
  it("takes the base64 of 16 bytes only", () => {
    assert.ok(isContentMd5(A));
    for (const value of ["5d41402abc4b2a76b9719d911017c592", A.slice(0, -1), `${A}=`, "XUFAKrxLKna5cZ2REBfF-_==", "", undefined, 5]) {
      assert.equal(isContentMd5(value), false, String(value));
    }
  });
});

describe("partMd5s", () => {
  it("pairs each part number with its MD5, or with none when no MD5s are given", () => {
    assert.deepEqual([...partMd5s([3, 1], [A, B])], [[3, A], [1, B]]);
    assert.deepEqual([...partMd5s([1, 2], undefined)], [[1, undefined], [2, undefined]]);
  });

  it("signs a part asked for twice once, when both times carry the same MD5", () => {
    assert.deepEqual([...partMd5s([1, 1, 2], [A, A, B])], [[1, A], [2, B]]);
    assert.deepEqual([...partMd5s([1, 1], undefined)], [[1, undefined]]);
  });

  it("refuses, naming contentMd5s: another length, a value that is no MD5, one part with two MD5s", () => {
    const cases: [number[], unknown[], RegExp][] = [
      [[1, 2], [A], /one MD5 per part number \(2\), in the same order; got 1/],
      [[1], [A, B], /one MD5 per part number \(1\), in the same order; got 2/],
      [[1, 2], [A, "5d41402abc4b2a76b9719d911017c592"], /^contentMd5s\[1\] must be the base64 of a 16-byte MD5/],
      [[1, 2], [A, null], /^contentMd5s\[1\] must be/],
      [[1, 1], [A, B], /Part 1 is asked for twice with different MD5s/],
    ];
    for (const [partNumbers, md5s, message] of cases) {
      const r = refusal(() => partMd5s(partNumbers, md5s));
      assert.deepEqual([r.code, r.field], ["INVALID_REQUEST", "contentMd5s"], JSON.stringify(md5s));
      assert.match(r.message, message);
    }
  });
});

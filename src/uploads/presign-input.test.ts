import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { assertPresignInput, type UntrustedPresignInput } from "./presign-input.js";

const GOOD = { ownerType: "avatar", filename: "me.png", contentType: "image/png", size: 10 } as const;

function refusal(input: UntrustedPresignInput): { code: string; field: unknown; message: string } {
  try {
    assertPresignInput(input);
  } catch (error) {
    const e = error as { code: string; details?: { field?: unknown }; message: string };
    return { code: e.code, field: e.details?.field, message: e.message };
  }
  assert.fail(`accepted ${JSON.stringify(input)}`);
}

describe("assertPresignInput", () => {
  it("accepts a plain request, with or without ownerId and method", () => {
    for (const input of [GOOD, { ...GOOD, ownerId: "room-1", method: "PUT" }, { ...GOOD, method: "POST" }, { ...GOOD, size: Number.MAX_SAFE_INTEGER }]) {
      assert.doesNotThrow(() => assertPresignInput(input), JSON.stringify(input));
    }
  });

  it("refuses a size that is not a positive safe integer, naming the field `size`", () => {
    for (const size of [-5, 0, 1.5, Number.NaN, Infinity, 2 ** 53, "5", true, [1], null, undefined]) {
      const r = refusal({ ...GOOD, size });
      assert.equal(r.code, "INVALID_REQUEST", String(size));
      assert.equal(r.field, "size", String(size));
      assert.match(r.message, /^size must be a whole number of bytes, at least 1 \(got .+\)\.$/);
    }
    assert.match(refusal({ ...GOOD, size: -5 }).message, /got -5/);
    assert.match(refusal({ ...GOOD, size: "5" }).message, /got "5"/);
  });

  it("refuses an unknown method, and non-string or empty names and types", () => {
    const cases: [UntrustedPresignInput, string][] = [
      [{ ...GOOD, method: "PATCH" }, "method"],
      [{ ...GOOD, method: "put" }, "method"],
      [{ ...GOOD, ownerType: ["avatar"] }, "ownerType"],
      [{ ...GOOD, ownerType: undefined }, "ownerType"],
      [{ ...GOOD, filename: "" }, "filename"],
      [{ ...GOOD, filename: 7 }, "filename"],
      [{ ...GOOD, contentType: "" }, "contentType"],
      [{ ...GOOD, contentType: { type: "image/png" } }, "contentType"],
      [{ ...GOOD, ownerId: "" }, "ownerId"],
      [{ ...GOOD, ownerId: 42 }, "ownerId"],
    ];
    for (const [input, field] of cases) {
      const r = refusal(input);
      assert.equal(r.code, "INVALID_REQUEST", JSON.stringify(input));
      assert.equal(r.field, field, JSON.stringify(input));
      assert.ok(r.message.startsWith(`${field} must be`), r.message);
    }
  });

  it("takes a contentMd5 for PUT uploads, in Content-MD5's own form, and refuses it with POST", () => {
    const md5 = "XUFAKrxLKna5cZ2REBfFkg==";
    for (const input of [{ ...GOOD, contentMd5: md5 }, { ...GOOD, method: "PUT", contentMd5: md5 }]) {
      assert.doesNotThrow(() => assertPresignInput(input), JSON.stringify(input));
    }
    const hex = "5d41402abc4b2a76b9719d911017c592";
    for (const contentMd5 of [hex, md5.slice(0, -2), `${md5}=`, "XUFAKrxLKna5cZ2REBfFk===", "XUFAKrxLKna5cZ2REBfF-_==", "", 5, [md5]]) {
      const r = refusal({ ...GOOD, contentMd5 });
      assert.deepEqual([r.code, r.field], ["INVALID_REQUEST", "contentMd5"], String(contentMd5));
      assert.match(r.message, /^contentMd5 must be the base64 of a 16-byte MD5/);
    }
    const post = refusal({ ...GOOD, method: "POST", contentMd5: md5 });
    assert.deepEqual([post.code, post.field], ["INVALID_REQUEST", "contentMd5"]);
    assert.match(post.message, /^contentMd5 is for PUT uploads only/);
  });

  it("keeps the echoed value short", () => {
    assert.ok(refusal({ ...GOOD, filename: 5, contentType: "x".repeat(10_000) }).message.length < 100);
    assert.ok(refusal({ ...GOOD, size: "9".repeat(10_000) }).message.length < 120);
  });
});

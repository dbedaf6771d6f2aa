import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { renderKey, templateProblems } from "../policies/key-template.js";
import { BUILTIN_POLICIES } from "../policies/builtins.js";
import { newUploadId } from "../uploads/upload-id.js";
import { DERIVATIVE_PREFIX, derivativeKey, derivativePrefix, parseDerivativeKey } from "./keys.js";

const ID = "0190f5e2-7c1a-7b3e-9a41-2f6d8c0b1e22";

describe("derivativeKey", () => {
  it("is made of the upload id, the preset name and the output format's extension", () => {
    assert.equal(derivativeKey({ uploadId: ID, preset: "thumb", format: "webp" }), `.derivatives/${ID}/thumb.webp`);
    assert.equal(derivativeKey({ uploadId: ID, preset: "card_2x", format: "jpeg" }), `.derivatives/${ID}/card_2x.jpg`);
    assert.ok(derivativeKey({ uploadId: ID, preset: "thumb", format: "avif" }).startsWith(derivativePrefix(ID)));
  });

  it("refuses anything but an upload id and a preset name (a caller bug, never a key)", () => {
    for (const uploadId of ["../x", "", `${ID}/..`, ID.toUpperCase()]) {
      assert.throws(() => derivativeKey({ uploadId, preset: "thumb", format: "webp" }), RangeError, uploadId);
    }
    for (const preset of ["../thumb", "Thumb", "a/b", "", "x".repeat(33)]) {
      assert.throws(() => derivativeKey({ uploadId: ID, preset, format: "webp" }), RangeError, preset);
    }
  });

  it("parses back, and parses nothing else", () => {
    for (const format of ["webp", "jpeg", "png", "avif"] as const) {
      assert.deepEqual(parseDerivativeKey(derivativeKey({ uploadId: ID, preset: "thumb", format })), { uploadId: ID, preset: "thumb", format });
    }
    for (const key of [`avatars/alice/${ID}.jpg`, `.derivatives/${ID}/thumb.gif`, `.derivatives/${ID}/x/thumb.webp`, `.derivatives/${ID}/.webp`, ".derivatives/x/thumb.webp"]) {
      assert.equal(parseDerivativeKey(key), undefined, key);
    }
  });

  it("cannot be rendered by any accepted key template, whatever the caller's ids", () => {
    // The hostile case: a JWT subject of 'derivatives' or '.derivatives' and owner ids shaped like keys.
    const templates = [
      ...BUILTIN_POLICIES.map((p) => p.keyTemplate),
      "{userId}/{id}/{ownerId}.{ext}",
      "{ownerId}/{userId}/{id}",
      "{ext}/{id}",
      ".derivatives/{id}",
      ".{userId}/{id}",
    ].filter((template) => templateProblems(template).length === 0);
    assert.ok(templates.includes("{userId}/{id}/{ownerId}.{ext}"));
    const callerValues = ["derivatives", ".derivatives", "..derivatives", ID, "thumb", "thumb.webp", ".", "h-x"];
    for (const template of templates) {
      for (const userId of callerValues) {
        for (const ownerId of callerValues) {
          const key = renderKey(template, { userId, ownerId, id: newUploadId(), ext: "webp", now: new Date() });
          assert.ok(!key.startsWith(DERIVATIVE_PREFIX) && !key.startsWith("."), `${template} → ${key}`);
        }
      }
    }
  });
});

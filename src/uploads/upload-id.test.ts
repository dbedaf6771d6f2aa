import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { newUploadId } from "./upload-id.js";

describe("newUploadId", () => {
  it("makes distinct version-7 UUIDs ordered by their millisecond, also across pool refills", () => {
    const ids = Array.from({ length: 2000 }, () => newUploadId());
    assert.equal(new Set(ids).size, ids.length);
    for (const id of ids) assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const millis = ids.map((id) => id.slice(0, 13));
    assert.deepEqual([...millis].sort(), millis);
  });

  it("orders ids of one millisecond by creation too (the uploads list is newest first by id)", () => {
    const ids = Array.from({ length: 2000 }, () => newUploadId());
    assert.ok(new Set(ids.map((id) => id.slice(0, 13))).size < ids.length, "some ids share a millisecond");
    assert.deepEqual([...ids].sort(), ids);
  });
});

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { MetadataStore } from "../../src/store/store.js";
import type { NewUpload } from "../../src/uploads/record.js";
import { newUploadId } from "../../src/uploads/upload-id.js";
import { migratedStore, STORES } from "../helpers/stores.js";

/** Confirm by object key (GraphQL's `confirmMediaUpload`) finds the caller's own upload by its key, on both databases. */

for (const [name, open] of STORES) describe(`an upload found by its key on ${name}`, () => {
  let store: MetadataStore;
  migratedStore(open, (opened) => ({ store } = opened));

  const upload = (userId: string, bucket: string, key: string): NewUpload => {
    const id = newUploadId();
    return {
      id, userId, orgId: undefined, ownerType: "avatar", ownerId: undefined, bucket, key, staging: undefined, method: "put",
      filename: "me.png", contentType: "image/png", declaredSize: 10, createdAt: new Date(), expiresAt: new Date(Date.now() + 60_000),
      multipart: undefined,
    };
  };

  it("finds the caller's own upload, and nobody else's", async () => {
    const mine = await store.insertUpload(upload("alice", "public", "avatars/alice/a.png"));
    const find = (userId: string, key = "avatars/alice/a.png") => store.findUploadByKey({ userId, key });
    assert.equal((await find("alice"))?.id, mine.id);
    assert.equal(await find("bob"), undefined, "another user's key is not found");
    assert.equal(await find("alice", "avatars/alice/other.png"), undefined);
  });

  it("answers the newest when two buckets hold the same key, of the caller's only", async () => {
    const older = await store.insertUpload(upload("carol", "public", "shared/key.png"));
    const newer = await store.insertUpload(upload("carol", "private", "shared/key.png"));
    await store.insertUpload(upload("dave", "compliance", "shared/key.png"));
    const found = await store.findUploadByKey({ userId: "carol", key: "shared/key.png" });
    assert.ok(older.id < newer.id);
    assert.equal(found?.id, newer.id);
    const daves = await store.findUploadByKey({ userId: "dave", key: "shared/key.png" });
    assert.equal(daves?.bucket, "compliance");
  });
});

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Config } from "../config/schema.js";
import { BUILTIN_POLICIES } from "../policies/builtins.js";
import type { Policy } from "../policies/policy.js";
import { s3Storage } from "../../test/helpers/storage-config.js";
import { minimalPrefixes, scanTargets, staticPrefix } from "./buckets.js";

const BUCKETS: Config["buckets"] = { public: { public: true }, private: { public: false }, compliance: { public: false } };

describe("staticPrefix", () => {
  it("is the template up to its first variable", () => {
    assert.equal(staticPrefix("signed-pdfs/{yyyy}/{mm}/{id}.pdf"), "signed-pdfs/");
    assert.equal(staticPrefix("avatars-{userId}/{id}.{ext}"), "avatars-");
    assert.equal(staticPrefix("{userId}/{id}.{ext}"), "");
    assert.equal(staticPrefix("fixed/key.bin"), "fixed/key.bin");
  });
});

describe("minimalPrefixes", () => {
  it("drops duplicates and prefixes covered by shorter ones", () => {
    assert.deepEqual(minimalPrefixes(["chat/x/", "chat/", "avatars/", "chat/"]), ["avatars/", "chat/"]);
    assert.deepEqual(minimalPrefixes(["a/", "", "b/"]), [""]);
  });
});

describe("scanTargets", () => {
  it("lists every logical bucket on its own on local disk", () => {
    const targets = scanTargets({ storage: { kind: "local" }, buckets: BUCKETS }, BUILTIN_POLICIES);
    assert.deepEqual(targets, [
      // Avatars make thumbnails, under .derivatives/ beside them.
      { buckets: ["public"], prefixes: [".derivatives/", "avatars/"] },
      { buckets: ["private"], prefixes: ["chat/", "documents/", "voice-notes/"] },
      { buckets: ["compliance"], prefixes: ["signed-pdfs/"] },
    ]);
  });

  it("lists a real S3 bucket once, looking keys up in every logical bucket stored in it", () => {
    const shared = scanTargets({ storage: s3Storage("media", "media"), buckets: BUCKETS }, BUILTIN_POLICIES);
    assert.deepEqual(shared, [
      { buckets: ["public", "private", "compliance"], prefixes: [".derivatives/", "avatars/", "chat/", "documents/", "signed-pdfs/", "voice-notes/"] },
    ]);
    const split = scanTargets({ storage: s3Storage("media", "records"), buckets: BUCKETS }, BUILTIN_POLICIES);
    assert.deepEqual(split.map((t) => t.buckets), [["public", "private"], ["compliance"]]);
  });

  it("honours a bucket's own provider name and skips locations no policy writes to", () => {
    const buckets = { ...BUCKETS, archive: { public: false, name: "cold-archive" } };
    const policies: Policy[] = [...BUILTIN_POLICIES, { ...(BUILTIN_POLICIES[1] as Policy), ownerType: "old", bucket: "archive", keyTemplate: "{userId}/{id}" }];
    const targets = scanTargets({ storage: s3Storage("media", "records"), buckets }, policies);
    assert.deepEqual(targets.find((t) => t.buckets.includes("archive")), { buckets: ["archive"], prefixes: [""] });
    const unused = scanTargets({ storage: { kind: "local" }, buckets: { ...BUCKETS, spare: { public: false } } }, BUILTIN_POLICIES);
    assert.equal(unused.some((t) => t.buckets.includes("spare")), false);
  });
});

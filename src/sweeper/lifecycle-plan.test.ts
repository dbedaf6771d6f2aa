import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Config } from "../config/schema.js";
import { BUILTIN_POLICIES } from "../policies/builtins.js";
import type { Policy } from "../policies/policy.js";
import { s3Storage } from "../../test/helpers/storage-config.js";
import { lifecyclePlans } from "./lifecycle-plan.js";

const BUCKETS: Config["buckets"] = { public: { public: true }, private: { public: false }, compliance: { public: false } };
const byType = (type: string) => BUILTIN_POLICIES.find((p) => p.ownerType === type) as Policy;

describe("lifecyclePlans", () => {
  it("is empty on local disk", () => {
    assert.deepEqual(lifecyclePlans({ storage: { kind: "local" }, buckets: BUCKETS, policies: [...BUILTIN_POLICIES] }), []);
  });

  it("gives a policy with expireAfterDays an expiry rule on its prefix, and every bucket the multipart rule", () => {
    const policies = [...BUILTIN_POLICIES.filter((p) => p.ownerType !== "voice_note"), { ...byType("voice_note"), expireAfterDays: 30 }];
    const [media, records] = lifecyclePlans({ storage: s3Storage("media", "records"), buckets: BUCKETS, policies });
    assert.deepEqual(media, {
      bucket: "media",
      expire: [{ id: "stowage-expire-voice_note", ownerType: "voice_note", prefix: "voice-notes/", days: 30 }],
      skipped: [],
      abortIncompleteAfterDays: 1,
      lockDays: undefined,
    });
    assert.deepEqual(records, { bucket: "records", expire: [], skipped: [], abortIncompleteAfterDays: 1, lockDays: 2555 });
  });

  it("gives no store rule where a prefix rule would be less careful than the sweeper", () => {
    const policies: Policy[] = [
      ...BUILTIN_POLICIES.filter((p) => p.ownerType !== "signed_pdf"),
      { ...byType("signed_pdf"), expireAfterDays: 1 },
      { ...byType("document"), ownerType: "loose", keyTemplate: "{userId}/{id}.{ext}", expireAfterDays: 7 },
      { ...byType("document"), ownerType: "chat_thumb", keyTemplate: "chat/thumbs/{id}.{ext}", expireAfterDays: 7 },
    ];
    const plans = lifecyclePlans({ storage: s3Storage("media", "media"), buckets: BUCKETS, policies });
    assert.equal(plans.length, 1);
    const [plan] = plans;
    assert.deepEqual(plan?.expire, []);
    assert.deepEqual(plan?.skipped.map((s) => s.ownerType), ["signed_pdf", "loose", "chat_thumb"]);
    assert.match(plan?.skipped[0]?.why ?? "", /compliance/);
    assert.match(plan?.skipped[1]?.why ?? "", /no fixed prefix/);
    assert.match(plan?.skipped[2]?.why ?? "", /overlaps owner type 'chat_upload'/);
    assert.equal(plan?.lockDays, undefined, "no bucket-wide lock where non-compliance media live too");
  });
});

import type { Policy } from "../policies/policy.js";
import type { UploadRecord } from "../uploads/record.js";
import type { ConfirmedRule } from "../store/sweeper-store.js";
import { DAY_MS, SECOND_MS, type SweepEvent, type SweepJob, type SweepJobOptions } from "./events.js";
import { byBucket, deleteKeys } from "./objects.js";

/**
 * Confirmed uploads never attached to a record within their policy's `attachWithinSeconds`:
 * a client that uploaded and then gave up (closed the composer, crashed). They expire, their
 * bytes go back to the quota in the same transaction, and their objects are deleted.
 */
export function unattached(options: SweepJobOptions): AsyncGenerator<SweepEvent> {
  return expireByRules("unattached", options, (policy) =>
    policy.attachWithinSeconds === undefined
      ? undefined
      : { confirmedBefore: new Date(options.now.getTime() - policy.attachWithinSeconds * SECOND_MS), unattachedOnly: true });
}

/**
 * The retention rule: confirmed uploads (attached or not) of a policy with `expireAfterDays`,
 * confirmed longer ago than that, expire with a refund and lose their object. On every backend:
 * on S3 `stowage lifecycle apply` adds the store's own rule as well. Uploads under compliance
 * retention (`retain_until` still ahead) are never taken, even when a rule says otherwise.
 */
export function retention(options: SweepJobOptions): AsyncGenerator<SweepEvent> {
  return expireByRules("retention", options, (policy) =>
    policy.expireAfterDays === undefined
      ? undefined
      : { confirmedBefore: new Date(options.now.getTime() - policy.expireAfterDays * DAY_MS), unattachedOnly: false });
}

async function* expireByRules(
  job: SweepJob,
  options: SweepJobOptions,
  ruleOf: (policy: Policy) => Omit<ConfirmedRule, "ownerType"> | undefined,
): AsyncGenerator<SweepEvent> {
  const { store, batchSize: limit, now, signal } = options;
  for (const policy of options.policies.values()) {
    const partial = ruleOf(policy);
    if (partial === undefined) continue;
    const rule: ConfirmedRule = { ownerType: policy.ownerType, ...partial };
    let after: string | undefined;
    for (;;) {
      signal?.throwIfAborted();
      // The claim and the refund are one transaction; the objects go after it commits, so a
      // failed delete leaves an orphan for a later run, never a refunded row with a live object.
      const rows = options.dryRun
        ? await store.findConfirmed({ rule, after, limit, now })
        : await store.expireConfirmed({ rule, limit, now });
      if (rows.length === 0) break;
      yield* deleteObjects(job, rows, options);
      after = rows.at(-1)?.id;
      if (rows.length < limit) break;
    }
  }
}

async function* deleteObjects(job: SweepJob, rows: readonly UploadRecord[], options: SweepJobOptions): AsyncGenerator<SweepEvent> {
  for (const [bucket, group] of byBucket(rows)) {
    const keys = group.map((r) => r.key);
    const failed = options.dryRun ? new Map<string, string>() : await deleteKeys(options.driver, bucket, keys, options.signal);
    for (const row of group) {
      const error = failed.get(row.key);
      const event: SweepEvent = {
        job,
        action: options.dryRun ? "would-expire" : "expired",
        bucket,
        key: row.key,
        bytes: error === undefined ? (row.size ?? 0) : 0,
        uploadId: row.id,
      };
      if (error !== undefined) event.error = `object left for the orphan sweep: ${error}`;
      yield event;
    }
  }
}

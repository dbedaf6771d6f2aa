import type { Config } from "../config/schema.js";
import type { Policy } from "../policies/policy.js";
import { locationOf } from "../storage/from-config.js";
import { staticPrefix } from "./buckets.js";

/** Stowage's expiry rule for one owner type: objects under `prefix` go `days` after creation. */
export interface ExpireRule {
  id: string;
  ownerType: string;
  prefix: string;
  days: number;
}

/** What `stowage lifecycle apply` sets on one real bucket. */
export interface LifecyclePlan {
  /** The provider's bucket name. */
  bucket: string;
  expire: ExpireRule[];
  /** Policies with `expireAfterDays` that get no store rule, and why (the sweeper still applies them). */
  skipped: { ownerType: string; why: string }[];
  /** Unfinished multipart uploads are dropped this many days after they started, bucket-wide. */
  abortIncompleteAfterDays: number;
  /**
   * Default object-lock retention, in days, when every policy stored here has `retentionDays`:
   * the shortest of them (the floor they all share; Stowage guards the rest per upload). Set
   * only on buckets that report object lock enabled.
   */
  lockDays: number | undefined;
}

/** A multipart upload's URLs live 24 h; a day after it started, nobody can finish it. */
export const ABORT_INCOMPLETE_AFTER_DAYS = 1;

/**
 * The store-side equivalent of the sweeper's retention rules, per real bucket. A bucket rule
 * only sees key prefixes and object age, so a policy gets one only where that is exactly as
 * strict as the sweeper: its key template has a fixed prefix that no other policy in the
 * bucket shares, and it has no compliance retention (the store cannot see `retain_until`, and
 * deleting a record early is the one mistake that cannot be undone).
 *
 * The store counts days from object creation (rounded up to midnight UTC), the sweeper from
 * confirmation, a few minutes later at most: whichever comes first expires the upload, and
 * the sweeper's missing-object job settles the row when the store was first.
 */
export function lifecyclePlans(config: Pick<Config, "storage" | "buckets" | "policies">): LifecyclePlan[] {
  if (config.storage.kind !== "s3") return [];
  const byLocation = new Map<string, Policy[]>();
  for (const logical of Object.keys(config.buckets)) byLocation.set(locationOf(config, logical), []);
  for (const policy of config.policies) byLocation.get(locationOf(config, policy.bucket))?.push(policy);
  return [...byLocation].map(([bucket, policies]) => {
    const expire: ExpireRule[] = [];
    const skipped: LifecyclePlan["skipped"] = [];
    for (const policy of policies) {
      if (policy.expireAfterDays === undefined) continue;
      const why = whyNoRule(policy, policies);
      if (why === undefined) {
        expire.push({ id: `stowage-expire-${policy.ownerType}`, ownerType: policy.ownerType, prefix: staticPrefix(policy.keyTemplate), days: policy.expireAfterDays });
      } else skipped.push({ ownerType: policy.ownerType, why });
    }
    const retentions = policies.map((p) => p.retentionDays);
    const lockDays = policies.length > 0 && retentions.every((d) => d !== undefined) ? Math.min(...retentions) : undefined;
    return { bucket, expire, skipped, abortIncompleteAfterDays: ABORT_INCOMPLETE_AFTER_DAYS, lockDays };
  });
}

function whyNoRule(policy: Policy, neighbours: readonly Policy[]): string | undefined {
  if (policy.retentionDays !== undefined) {
    return `it keeps media ${policy.retentionDays} days for compliance, which a bucket rule cannot see; the sweeper expires it`;
  }
  const prefix = staticPrefix(policy.keyTemplate);
  if (prefix === "") return "its key template has no fixed prefix, so a rule would cover the whole bucket";
  const overlap = neighbours.find((other) => {
    if (other === policy || other.expireAfterDays === policy.expireAfterDays) return false;
    const theirs = staticPrefix(other.keyTemplate);
    return theirs.startsWith(prefix) || prefix.startsWith(theirs);
  });
  return overlap === undefined ? undefined : `its prefix '${prefix}' overlaps owner type '${overlap.ownerType}', which keeps media longer`;
}

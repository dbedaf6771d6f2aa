import {
  GetBucketLifecycleConfigurationCommand,
  GetObjectLockConfigurationCommand,
  type LifecycleRule,
  PutBucketLifecycleConfigurationCommand,
  PutObjectLockConfigurationCommand,
  type S3Client,
} from "@aws-sdk/client-s3";

/** Rule ids Stowage owns start with this; other rules on a bucket are left as they are. */
export const STOWAGE_RULE_ID_PREFIX = "stowage-";

/** Stowage's lifecycle rules: expiry per prefix, and dropping unfinished multipart uploads bucket-wide. */
export function stowageLifecycleRules(plan: {
  expire: readonly { id: string; prefix: string; days: number }[];
  abortIncompleteAfterDays: number;
}): LifecycleRule[] {
  return [
    ...plan.expire.map((rule): LifecycleRule => ({ ID: rule.id, Status: "Enabled", Filter: { Prefix: rule.prefix }, Expiration: { Days: rule.days } })),
    {
      ID: `${STOWAGE_RULE_ID_PREFIX}abort-incomplete-multipart`,
      Status: "Enabled",
      Filter: { Prefix: "" },
      AbortIncompleteMultipartUpload: { DaysAfterInitiation: plan.abortIncompleteAfterDays },
    },
  ];
}

/** A bucket's lifecycle rules as the store reports them; empty when it has none. */
export async function readLifecycle(client: S3Client, bucket: string): Promise<LifecycleRule[]> {
  try {
    return (await client.send(new GetBucketLifecycleConfigurationCommand({ Bucket: bucket }))).Rules ?? [];
  } catch (error) {
    if ((error as { name?: string }).name === "NoSuchLifecycleConfiguration") return [];
    throw error;
  }
}

/**
 * Replaces Stowage's rules on a bucket and keeps everyone else's: PutBucketLifecycleConfiguration
 * replaces the whole configuration, so the rules not ours are read first and sent back with ours.
 * Returns the rules the bucket reports afterwards.
 */
export async function applyLifecycle(client: S3Client, bucket: string, rules: readonly LifecycleRule[]): Promise<LifecycleRule[]> {
  const foreign = (await readLifecycle(client, bucket)).filter((rule) => !(rule.ID ?? "").startsWith(STOWAGE_RULE_ID_PREFIX));
  const configuration = { Rules: [...foreign, ...rules] };
  await client.send(new PutBucketLifecycleConfigurationCommand({ Bucket: bucket, LifecycleConfiguration: configuration }));
  return readLifecycle(client, bucket);
}

/**
 * Whether the bucket has object lock on. It can only be turned on when a bucket is created (or
 * by AWS support), so Stowage never tries to; where it is off, retention is Stowage's alone.
 */
export async function objectLockEnabled(client: S3Client, bucket: string): Promise<{ enabled: boolean; detail: string }> {
  try {
    const answer = await client.send(new GetObjectLockConfigurationCommand({ Bucket: bucket }));
    const config = answer.ObjectLockConfiguration;
    const retention = config?.Rule?.DefaultRetention;
    const current = retention === undefined ? "no default retention" : `default retention ${retention.Mode} ${retention.Days ?? 0} days ${retention.Years ?? 0} years`;
    return config?.ObjectLockEnabled === "Enabled" ? { enabled: true, detail: current } : { enabled: false, detail: "object lock not enabled" };
  } catch (error) {
    const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
    if (e.name === "ObjectLockConfigurationNotFoundError" || e.$metadata?.httpStatusCode === 404) return { enabled: false, detail: "object lock not enabled" };
    return { enabled: false, detail: `object lock status unknown (${e.name ?? "error"})` };
  }
}

/**
 * Sets a bucket's default object-lock retention. GOVERNANCE mode: ordinary credentials, Stowage's
 * included, cannot delete or shorten it, yet an administrator with
 * `s3:BypassGovernanceRetention` can still correct a wrong setting; COMPLIANCE mode could not be
 * undone by anyone for years.
 */
export async function applyDefaultRetention(client: S3Client, bucket: string, days: number): Promise<void> {
  await client.send(
    new PutObjectLockConfigurationCommand({
      Bucket: bucket,
      ObjectLockConfiguration: { ObjectLockEnabled: "Enabled", Rule: { DefaultRetention: { Mode: "GOVERNANCE", Days: days } } },
    }),
  );
}

import type { Config } from "../config/schema.js";
import { storageFromConfig } from "../storage/from-config.js";
import { describeS3Error } from "../storage/s3/describe-error.js";
import { applyDefaultRetention, applyLifecycle, objectLockEnabled, stowageLifecycleRules } from "../storage/s3/lifecycle.js";
import { type LifecyclePlan, lifecyclePlans } from "../sweeper/lifecycle-plan.js";

/** `stowage lifecycle apply`: each bucket's expiry rules and default retention, from the policies. */
export async function apply(config: Config, dryRun: boolean): Promise<void> {
  const { s3 } = storageFromConfig(config);
  if (s3 === undefined) {
    process.stdout.write(
      "Storage is local: there are no bucket lifecycle rules. Retention rules (expireAfterDays), unattached\n" +
      "and abandoned uploads are handled by the sweeper: `stowage sweep`, and `stowage serve` every\n" +
      `STOWAGE_SWEEP_INTERVAL_SECONDS (now ${config.sweep.intervalSeconds}).\n`,
    );
    return;
  }
  const out = (line: string) => process.stdout.write(`${line}\n`);
  for (const plan of lifecyclePlans(config)) {
    out(`bucket ${plan.bucket}:`);
    for (const line of describePlan(plan)) out(`  ${line}`);
    try {
      const lock = await objectLockEnabled(s3.client, plan.bucket);
      if (plan.lockDays === undefined) out(`  object lock: ${lock.detail}; not set (not every owner type here has retentionDays)`);
      else if (!lock.enabled) out(`  object lock: ${lock.detail}; retention of ${plan.lockDays} days is enforced by Stowage only`);
      else if (dryRun) out(`  object lock: ${lock.detail}; would set default retention GOVERNANCE ${plan.lockDays} days`);
      else {
        await applyDefaultRetention(s3.client, plan.bucket, plan.lockDays);
        out(`  object lock: default retention set to GOVERNANCE ${plan.lockDays} days (was: ${lock.detail})`);
      }
      if (dryRun) {
        out("  dry run: nothing changed");
        continue;
      }
      const now = await applyLifecycle(s3.client, plan.bucket, stowageLifecycleRules(plan));
      out(`  applied; the bucket now reports ${now.length} rule(s): ${now.map((r) => r.ID ?? "(no id)").join(", ")}`);
    } catch (error) {
      throw new Error(`could not set the lifecycle of bucket '${plan.bucket}': ${describeS3Error(error)}`, { cause: error });
    }
  }
}

function describePlan(plan: LifecyclePlan): string[] {
  return [
    ...plan.expire.map((rule) => `expire '${rule.prefix}*' ${rule.days} days after upload (owner type ${rule.ownerType}; rule ${rule.id})`),
    ...plan.skipped.map((skip) => `no rule for owner type ${skip.ownerType}: ${skip.why}`),
    `abort unfinished multipart uploads ${plan.abortIncompleteAfterDays} day(s) after they started (whole bucket)`,
  ];
}

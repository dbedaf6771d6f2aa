import type { Config } from "../config/schema.js";
import type { Policy } from "../policies/policy.js";
import { DERIVATIVE_PREFIX } from "../derivatives/keys.js";
import { STAGING_PREFIX } from "../policies/staging-key.js";
import { locationOf } from "../storage/from-config.js";

/** Where the orphan job looks: one storage location, and the key prefixes Stowage writes there. */
export interface ScanTarget {
  /** Logical buckets (as policies name them) stored in this one location; listed through the first. */
  buckets: string[];
  /** Key prefixes to list; `""` is the whole location. */
  prefixes: string[];
}

/**
 * The fixed start of a key template, up to its first variable: every key the template makes
 * begins with it.
 *
 * @example staticPrefix("signed-pdfs/{yyyy}/{mm}/{id}.pdf") // "signed-pdfs/"
 */
export function staticPrefix(keyTemplate: string): string {
  const brace = keyTemplate.indexOf("{");
  return brace < 0 ? keyTemplate : keyTemplate.slice(0, brace);
}

/**
 * The locations and prefixes the orphan job lists: per storage location, the static prefixes of
 * the policies stored there. Listing only what Stowage writes keeps a shared bucket's other
 * contents safe, and logical buckets sharing a location are listed once and looked up together,
 * so an object is never judged against the wrong logical bucket. Objects of a policy that was
 * removed from the config are no longer scanned (left alone, never deleted by mistake).
 */
export function scanTargets(config: Pick<Config, "storage" | "buckets"> & { stagingBucket?: string }, policies: Iterable<Policy>): ScanTarget[] {
  const locations = new Map<string, { buckets: string[]; prefixes: Set<string> }>();
  for (const logical of Object.keys(config.buckets)) {
    const location = locationOf(config, logical);
    const entry = locations.get(location) ?? { buckets: [], prefixes: new Set<string>() };
    entry.buckets.push(logical);
    locations.set(location, entry);
  }
  for (const policy of policies) {
    locations.get(locationOf(config, policy.bucket))?.prefixes.add(staticPrefix(policy.keyTemplate));
    // Derivatives live beside the originals: those of uploads no longer live are orphans too.
    if (policy.derivatives !== undefined && Object.keys(policy.derivatives).length > 0) {
      locations.get(locationOf(config, policy.bucket))?.prefixes.add(DERIVATIVE_PREFIX);
    }
  }
  // Staging objects no row names any more (a database restored from an older backup, say).
  if (config.stagingBucket !== undefined) locations.get(locationOf(config, config.stagingBucket))?.prefixes.add(STAGING_PREFIX);
  return [...locations.values()]
    .filter((entry) => entry.prefixes.size > 0)
    .map((entry) => ({ buckets: entry.buckets, prefixes: minimalPrefixes([...entry.prefixes]) }));
}

/** Drops prefixes covered by a shorter one, so no key is listed twice. */
export function minimalPrefixes(prefixes: readonly string[]): string[] {
  const kept: string[] = [];
  for (const prefix of [...new Set(prefixes)].sort()) {
    if (!kept.some((shorter) => prefix.startsWith(shorter))) kept.push(prefix);
  }
  return kept;
}

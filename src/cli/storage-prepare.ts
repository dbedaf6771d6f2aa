import { join } from "node:path";
import type { CORSRule } from "@aws-sdk/client-s3";
import type { Config } from "../config/schema.js";
import { storageFromConfig } from "../storage/from-config.js";
import { applyCors, corsRules, readCors } from "../storage/s3/cors.js";
import { describeS3Error } from "../storage/s3/describe-error.js";
import { initBuckets, type InitStep } from "../storage/s3/init.js";

/** `stowage storage cors`: the CORS rules for browsers on the given origins, on every S3 bucket. */
export async function cors(config: Config, options: { origin: string[]; dryRun?: true }): Promise<void> {
  const { s3 } = storageFromConfig(config);
  if (s3 === undefined) {
    // Local storage has no bucket to configure: Stowage's own /storage/ route is the endpoint.
    const example = options.origin.length > 0 ? options.origin.join(",") : "https://app.example.com,http://localhost:5173";
    const now = config.corsOrigins.length > 0 ? config.corsOrigins.join(",") : "none";
    process.stdout.write(
      "Storage is local: Stowage serves /storage/ itself and answers browsers' CORS preflights there,\n" +
      "so there is no bucket to configure. Allow your web app's origins with STOWAGE_CORS_ORIGINS\n" +
      `(comma-separated) when starting Stowage, e.g.\n\n  STOWAGE_CORS_ORIGINS=${example}\n\n` +
      `Allowed in this environment now: ${now}\n`,
    );
    return;
  }
  if (options.origin.length === 0) throw new Error("give at least one --origin, e.g. --origin https://app.example.com");
  const rules = corsRules(options.origin);
  const buckets = s3.bucketNames();
  if (options.dryRun) {
    process.stderr.write(`Dry run: these rules would replace the CORS configuration of ${buckets.join(", ")}; nothing changed.\n`);
    process.stdout.write(`${JSON.stringify(Object.fromEntries(buckets.map((b) => [b, rules])), null, 2)}\n`);
    return;
  }
  const applied: Record<string, CORSRule[]> = {};
  for (const bucket of buckets) {
    try {
      await applyCors(s3.client, bucket, rules);
      applied[bucket] = await readCors(s3.client, bucket);
    } catch (error) {
      throw new Error(`could not set CORS on bucket '${bucket}': ${describeS3Error(error)}`, { cause: error });
    }
    // Some stores accept a configuration and keep less of it; say so rather than let uploads fail.
    const kept = new Set(applied[bucket]?.flatMap((rule) => rule.AllowedOrigins ?? []));
    const lost = options.origin.filter((origin) => !kept.has(origin));
    if (lost.length > 0) throw new Error(`bucket '${bucket}' accepted the CORS rules but does not report origin(s) ${lost.join(", ")} back`);
  }
  process.stderr.write(`CORS rules applied; as ${buckets.length === 1 ? "the bucket reports" : "the buckets report"} them now:\n`);
  process.stdout.write(`${JSON.stringify(applied, null, 2)}\n`);
}

const STEPS: readonly InitStep[] = ["bucket", "write", "read", "delete"];

/** `stowage storage init`: local folders, or each S3 bucket made and checked (write, read, delete). */
export async function init(config: Config): Promise<void> {
  const { s3, local } = storageFromConfig(config);
  if (local !== undefined) {
    await local.init();
    process.stdout.write(`Local storage ready at ${join(config.dataDir, "storage")} (objects/, meta/, tmp/)\n`);
    return;
  }
  if (s3 === undefined) return;
  const results = await initBuckets(s3.client, s3.bucketNames());
  const width = Math.max(...results.map((r) => r.bucket.length));
  for (const result of results) {
    // One column per step: ✓ done, ✗ failed, – not reached because an earlier step failed.
    const cells = STEPS.map((name) => {
      const step = result.steps.find((s) => s.step === name);
      const label = name === "bucket" ? (step?.outcome ?? "bucket") : name;
      return `${label} ${step === undefined ? "–" : step.ok ? "✓" : "✗"}`;
    });
    process.stdout.write(`${result.bucket.padEnd(width)}  ${cells.join("  ")}\n`);
  }
  const failures = results.flatMap((r) =>
    r.steps.filter((s) => !s.ok).map((s) => `  ${r.bucket}: ${s.step === "bucket" ? "bucket check/create" : s.step} failed: ${s.error}`),
  );
  if (failures.length > 0) throw new Error(`storage init failed:\n${failures.join("\n")}`);
}

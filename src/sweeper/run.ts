import type { Config } from "../config/schema.js";
import type { PolicySet } from "../policies/policy.js";
import type { StorageDriver } from "../storage/driver.js";
import type { SweeperStore } from "../store/sweeper-store.js";
import { abandoned } from "./abandoned.js";
import { type ScanTarget, scanTargets } from "./buckets.js";
import { SWEEP_JOBS, type SweepAction, type SweepEvent, type SweepJob } from "./events.js";
import { history, links, outbox } from "./history.js";
import { missing } from "./missing.js";
import { messageOf } from "./objects.js";
import { orphans } from "./orphans.js";
import { reservations } from "./reservations.js";
import { staging } from "./staging.js";
import { retention, unattached } from "./unattached-and-retention.js";

export interface SweepOptions {
  store: SweeperStore;
  driver: StorageDriver;
  policies: PolicySet;
  targets: readonly ScanTarget[];
  abandonedGraceSeconds: number;
  orphanGraceSeconds: number;
  /** Confirmed uploads the missing-object check HEADs per run; `undefined`: all of them. */
  missingPerRun?: number | undefined;
  /** Days finished history (upload rows, outbox events, links) is kept; 0: forever. Default 0. */
  historyDays?: number;
  /** Rows the history jobs delete per statement. Default 1000. */
  purgeBatchSize?: number;
  /** Default: the current time. Every cutoff is computed from it. */
  now?: Date;
  /**
   * Rows claimed and settled at a time. Default 200: smaller batches die young instead of
   * reaching V8's old generation. Peak RSS of a 100 000-upload sweep over a 1 000-upload one
   * (`npm run bench -- sweeper`) varies from run to run: medians +26, +40 and +77 MiB in three
   * full runs with 200, against +67 MiB in the one earlier run with 500.
   */
  batchSize?: number;
  dryRun?: boolean;
  signal?: AbortSignal | undefined;
  /** Default: all of them, in {@link SWEEP_JOBS} order. */
  jobs?: readonly SweepJob[];
  /** Told about every item as it is handled (dry-run listings, progress). */
  onEvent?: (event: SweepEvent) => void;
}

export interface JobReport {
  /** Items per action, e.g. `{ expired: 12 }` or `{ "would-delete": 3 }`. */
  counts: Partial<Record<SweepAction, number>>;
  /** Storage freed, or that would be (declared sizes for abandoned uploads: see `SweepEvent.bytes`). */
  bytes: number;
  /** Items that left something behind (see `SweepEvent.error`). */
  errors: number;
  /** Wall-clock time the job took, to 0.1 ms (most take well under one); 0 for a job that did not run. */
  durationMs: number;
  /** Why the job stopped early, if it did; the other jobs still ran. */
  failure?: string;
}

export interface SweepReport {
  dryRun: boolean;
  now: string;
  durationMs: number;
  /** Stopped by its signal before every job had finished. */
  aborted: boolean;
  jobs: Record<SweepJob, JobReport>;
}

/** The config-derived sweep settings, so `serve` and `stowage sweep` cannot disagree. */
export function sweepSettings(
  config: Config,
): Pick<SweepOptions, "policies" | "targets" | "abandonedGraceSeconds" | "orphanGraceSeconds" | "missingPerRun" | "historyDays"> {
  const policies = new Map(config.policies.map((p) => [p.ownerType, p]));
  return {
    policies,
    targets: scanTargets(config, policies.values()),
    abandonedGraceSeconds: config.sweep.abandonedGraceSeconds,
    orphanGraceSeconds: config.sweep.orphanGraceSeconds,
    missingPerRun: config.sweep.missingPerRun === 0 ? undefined : config.sweep.missingPerRun,
    historyDays: config.sweep.historyDays,
  };
}

/**
 * Runs the cleanup jobs one after another and sums up what they did. Rows are handled before
 * objects: abandoned, unattached and retention expire rows and delete their objects, missing
 * settles rows whose object is gone, and orphans last, so objects left behind by an earlier
 * job's failed delete are picked up in the same run. The history purges run after everything
 * else (rows only: see `history.ts`). A job that fails (database down, store
 * unreachable) is reported and the next one still runs; an abort ends the run.
 */
export async function sweep(options: SweepOptions): Promise<SweepReport> {
  const now = options.now ?? new Date();
  const started = performance.now();
  const common = {
    store: options.store,
    driver: options.driver,
    policies: options.policies,
    now,
    batchSize: options.batchSize ?? 200,
    signal: options.signal,
    dryRun: options.dryRun ?? false,
  };
  const purge = { ...common, historyDays: options.historyDays ?? 0, purgeBatchSize: options.purgeBatchSize ?? 1000 };
  const generators: Record<SweepJob, () => AsyncGenerator<SweepEvent>> = {
    reservations: () => reservations(common),
    abandoned: () => abandoned({ ...common, graceSeconds: options.abandonedGraceSeconds }),
    unattached: () => unattached(common),
    retention: () => retention(common),
    missing: () => missing({ ...common, perRun: options.missingPerRun }),
    staging: () => staging(common),
    orphans: () => orphans({ ...common, targets: options.targets, graceSeconds: options.orphanGraceSeconds }),
    history: () => history(purge),
    outbox: () => outbox(purge),
    links: () => links(purge),
  };
  const fresh = (): JobReport => ({ counts: {}, bytes: 0, errors: 0, durationMs: 0 });
  const jobs = Object.fromEntries(SWEEP_JOBS.map((job) => [job, fresh()])) as Record<SweepJob, JobReport>;
  let aborted = false;
  for (const job of options.jobs ?? SWEEP_JOBS) {
    if (options.signal?.aborted) {
      aborted = true;
      break;
    }
    const report = jobs[job];
    const jobStarted = performance.now();
    try {
      for await (const event of generators[job]()) {
        report.counts[event.action] = (report.counts[event.action] ?? 0) + 1;
        report.bytes += event.bytes;
        if (event.error !== undefined || event.action === "failed") report.errors += 1;
        options.onEvent?.(event);
      }
    } catch (error) {
      if (options.signal?.aborted) {
        aborted = true;
        break;
      }
      report.failure = messageOf(error);
    } finally {
      report.durationMs = Math.round((performance.now() - jobStarted) * 10) / 10;
    }
  }
  return { dryRun: common.dryRun, now: now.toISOString(), durationMs: Math.round(performance.now() - started), aborted, jobs };
}

/** Whether anything went wrong in a run: a job failed or an item left something behind. */
export function hasProblems(report: SweepReport): boolean {
  return Object.values(report.jobs).some((job) => job.failure !== undefined || job.errors > 0);
}

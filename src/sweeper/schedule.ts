import type { Logger } from "pino";
import type { Config } from "../config/schema.js";
import type { Metrics } from "../metrics/registry.js";
import { recordSweep } from "../metrics/sweep-metrics.js";
import type { StorageDriver } from "../storage/driver.js";
import type { MetadataStore } from "../store/store.js";
import type { SweepEvent } from "./events.js";
import { hasProblems, sweep, type SweepReport, sweepSettings } from "./run.js";

export interface SweepSchedule {
  /** Aborts a run in progress, waits for it to wind down, and schedules no more. */
  stop(): Promise<void>;
}

/**
 * Runs `run` every `intervalSeconds` until stopped, and logs each report. Runs never overlap:
 * the next is timed from the end of the previous one. The timer is unref'd so it never keeps
 * the process alive, and the first run is jittered (50–100 % of the interval) so instances
 * started together do not all sweep at the same moment. Stopping aborts the run in progress
 * through its signal, so shutdown is not held up by a long sweep.
 *
 * @example
 * const schedule = scheduleSweeps({ intervalSeconds: 1800, logger, run: (signal) => sweep({ ...settings, signal }) });
 * process.once("SIGTERM", () => void schedule.stop());
 */
export function scheduleSweeps(options: {
  intervalSeconds: number;
  logger: Logger;
  run: (signal: AbortSignal) => Promise<SweepReport>;
}): SweepSchedule {
  const { logger } = options;
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  const intervalMs = options.intervalSeconds * 1000;

  const tick = async () => {
    try {
      const report = await options.run(controller.signal);
      const level = hasProblems(report) ? "warn" : "info";
      logger[level]({ sweep: summarize(report) }, report.aborted ? "sweep aborted" : "sweep finished");
    } catch (error) {
      logger.error({ err: error }, "sweep failed");
    }
  };
  const schedule = (delayMs: number) => {
    if (controller.signal.aborted) return;
    timer = setTimeout(() => {
      running = tick().finally(() => {
        running = undefined;
        schedule(intervalMs);
      });
    }, delayMs);
    timer.unref();
  };

  if (intervalMs > 0) schedule(intervalMs * (0.5 + Math.random() / 2));
  return {
    async stop() {
      controller.abort();
      clearTimeout(timer);
      await running;
    },
  };
}

/** The sweeper of `stowage serve`: every `STOWAGE_SWEEP_INTERVAL_SECONDS` (0 turns it off); each run counted in `runtime.metrics`. */
export function sweepOnSchedule(
  config: Config,
  runtime: { store: MetadataStore; driver: StorageDriver; metrics?: Metrics | undefined; removeStaleTemp?: () => Promise<number> },
  logger: Logger,
): SweepSchedule {
  const settings = sweepSettings(config);
  return scheduleSweeps({
    intervalSeconds: config.sweep.intervalSeconds,
    logger,
    run: async (signal) => {
      const onEvent = (event: SweepEvent) => logNotable(logger, event);
      // A process killed mid-upload left its temp file; a restart soon after keeps it (it may
      // be young), so every scheduled run looks again.
      await runtime.removeStaleTemp?.().catch((error: unknown) => logger.warn({ err: error }, "stale temp files not removed"));
      const report = await sweep({ ...settings, store: runtime.store.sweeper, driver: runtime.driver, signal, onEvent });
      if (runtime.metrics !== undefined) recordSweep(runtime.metrics, report);
      return report;
    },
  });
}

/**
 * Items an operator should hear about one by one, not only as a count: objects that vanished
 * from storage (a compliance record among them is an incident) and anything left behind.
 */
export function logNotable(logger: Logger, event: SweepEvent): void {
  const { job, action, bucket, key, uploadId, reason, error } = event;
  if (action === "kept") logger.error({ job, bucket, key, uploadId }, reason ?? "kept");
  else if (job === "missing") logger.warn({ job, bucket, key, uploadId }, "object missing from storage; upload expired and refunded");
  else if (error !== undefined || action === "failed") logger.warn({ job, action, bucket, key, uploadId, error }, "sweep item left something behind");
}

/** A report trimmed for one log line: per job, its counts, bytes and time, and any failure. */
export function summarize(report: SweepReport): Record<string, unknown> {
  return {
    dryRun: report.dryRun,
    durationMs: report.durationMs,
    jobs: Object.fromEntries(
      Object.entries(report.jobs).map(([job, r]) => {
        const problems = { ...(r.errors > 0 ? { errors: r.errors } : {}), ...(r.failure === undefined ? {} : { failure: r.failure }) };
        return [job, { ...r.counts, bytes: r.bytes, durationMs: r.durationMs, ...problems }];
      }),
    ),
  };
}

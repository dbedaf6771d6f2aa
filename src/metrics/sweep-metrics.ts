import type { SweepAction, SweepJob } from "../sweeper/events.js";
import type { SweepReport } from "../sweeper/run.js";
import { hasProblems } from "../sweeper/run.js";
import type { Metrics } from "./registry.js";

/** Counts one finished sweep run: its result, and per job its items by action, bytes, errors and failure. */
export function recordSweep(metrics: Metrics, report: SweepReport): void {
  metrics.sweepRuns.labels(report.aborted ? "aborted" : hasProblems(report) ? "problems" : "ok").inc();
  for (const [job, r] of Object.entries(report.jobs) as [SweepJob, SweepReport["jobs"][SweepJob]][]) {
    for (const [action, count] of Object.entries(r.counts) as [SweepAction, number][]) metrics.sweepItems.labels(job, action).inc(count);
    // Every job's series exists after the first run, at 0 when it had nothing to do.
    metrics.sweepBytes.labels(job).inc(r.bytes);
    metrics.sweepItemErrors.labels(job).inc(r.errors);
    metrics.sweepJobFailures.labels(job).inc(r.failure === undefined ? 0 : 1);
  }
  metrics.sweepLastDuration.set(report.durationMs / 1000);
  metrics.sweepLastRun.set(Date.now() / 1000);
}

import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { describe, it } from "node:test";
import { createLogger } from "../logger.js";
import { SWEEP_JOBS } from "./events.js";
import type { JobReport, SweepReport } from "./run.js";
import { logNotable, scheduleSweeps } from "./schedule.js";

function capture() {
  const lines: Record<string, any>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()));
      done();
    },
  });
  return { lines, logger: createLogger("info", stream) };
}

function report(aborted = false, abandoned: Partial<JobReport> = {}): SweepReport {
  const jobs = Object.fromEntries(SWEEP_JOBS.map((job) => [job, { counts: {}, bytes: 0, errors: 0, durationMs: 0 }])) as SweepReport["jobs"];
  jobs.abandoned = { ...jobs.abandoned, ...abandoned };
  return { dryRun: false, now: new Date().toISOString(), durationMs: 1, aborted, jobs };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("scheduleSweeps", () => {
  it("runs on its interval, one run at a time, and logs each report", async () => {
    const { lines, logger } = capture();
    let active = 0;
    let most = 0;
    let runs = 0;
    const schedule = scheduleSweeps({
      intervalSeconds: 0.2,
      logger,
      run: async () => {
        most = Math.max(most, ++active);
        await sleep(150);
        active--;
        runs++;
        return report(false, runs === 1 ? { counts: { expired: 2 }, bytes: 10, durationMs: 7.5 } : { failure: "database down" });
      },
    });
    await sleep(900);
    await schedule.stop();
    assert.ok(runs >= 2, `ran ${runs} times`);
    assert.equal(most, 1, "runs never overlap");
    assert.equal(lines[0]?.msg, "sweep finished");
    assert.deepEqual(lines[0]?.sweep.jobs.abandoned, { expired: 2, bytes: 10, durationMs: 7.5 });
    assert.equal(lines[1]?.level, 40, "a failed job logs a warning");
    assert.equal(lines[1]?.sweep.jobs.abandoned.failure, "database down");
  });

  it("aborts the run in progress on stop, waits for it, and runs no more", async () => {
    const { lines, logger } = capture();
    let started = 0;
    let release: () => void = () => undefined;
    const running = new Promise<void>((resolve) => (release = resolve));
    const schedule = scheduleSweeps({
      intervalSeconds: 0.05,
      logger,
      run: async (signal) => {
        started++;
        release();
        await new Promise((resolve) => signal.addEventListener("abort", resolve, { once: true }));
        return report(true);
      },
    });
    // The schedule's timer is unref'd (it must never keep a process alive): hold the loop open.
    const keepAlive = setInterval(() => undefined, 1000);
    await running;
    await schedule.stop();
    clearInterval(keepAlive);
    assert.equal(lines.at(-1)?.msg, "sweep aborted");
    await sleep(150);
    assert.equal(started, 1);
  });

  it("never runs with an interval of 0", async () => {
    const { logger } = capture();
    let runs = 0;
    const schedule = scheduleSweeps({ intervalSeconds: 0, logger, run: async () => (runs++, report()) });
    await sleep(50);
    await schedule.stop();
    assert.equal(runs, 0);
  });
});

describe("logNotable", () => {
  it("logs vanished objects and leftovers one by one, and nothing routine", () => {
    const { lines, logger } = capture();
    const base = { bucket: "private", key: "documents/a.pdf", bytes: 0, uploadId: "u1" };
    logNotable(logger, { ...base, job: "abandoned", action: "expired" });
    logNotable(logger, { ...base, job: "orphans", action: "deleted", bytes: 10 });
    logNotable(logger, { ...base, job: "missing", action: "expired", reason: "OBJECT_MISSING" });
    logNotable(logger, { ...base, job: "missing", action: "kept", reason: "object missing, but under retention" });
    logNotable(logger, { ...base, job: "orphans", action: "failed", error: "SlowDown" });
    assert.deepEqual(lines.map((l) => [l.level, l.job]), [[40, "missing"], [50, "missing"], [40, "orphans"]]);
    assert.equal(lines[1]?.msg, "object missing, but under retention");
    assert.equal(lines[2]?.error, "SlowDown");
  });
});

import type { Config } from "../config/schema.js";
import { storageFromConfig } from "../storage/from-config.js";
import { openStore } from "../store/open.js";
import type { SweepEvent } from "../sweeper/events.js";
import { sweep, type SweepReport, sweepSettings } from "../sweeper/run.js";

/** `stowage sweep`: one run of every job, its items and report printed as asked. */
export async function runSweep(config: Config, options: { dryRun: boolean; json: boolean }): Promise<SweepReport> {
  const store = openStore(config.database);
  const { driver } = storageFromConfig(config);
  // Ctrl-C stops between batches; what was done so far is reported.
  const controller = new AbortController();
  const interrupt = () => controller.abort();
  process.once("SIGINT", interrupt);
  const items: SweepEvent[] = [];
  try {
    const report = await sweep({
      ...sweepSettings(config),
      store: store.sweeper,
      driver,
      dryRun: options.dryRun,
      signal: controller.signal,
      onEvent: (event) => {
        if (options.json) {
          if (options.dryRun) items.push(event);
        } else if (options.dryRun || event.error !== undefined || event.action === "kept") {
          process.stdout.write(`${describe(event)}\n`);
        }
      },
    });
    process.stdout.write(options.json ? `${JSON.stringify(options.dryRun ? { ...report, items } : report, null, 2)}\n` : table(report));
    return report;
  } finally {
    process.off("SIGINT", interrupt);
    await store.close();
  }
}

function describe(event: SweepEvent): string {
  const extra = [event.multipartAborted ? "multipart aborted" : "", event.reason ?? "", event.error ?? ""].filter((s) => s !== "");
  const what = event.eventId !== undefined ? `event ${event.eventId}` : event.linkId !== undefined ? `link ${event.linkId}` : `${event.bucket}/${event.key}`;
  return `${event.action.padEnd(12)} ${event.job.padEnd(10)} ${what}  ${event.bytes} B${extra.length > 0 ? `  (${extra.join("; ")})` : ""}`;
}

function table(report: SweepReport): string {
  const lines = [`${report.dryRun ? "Dry run (nothing changed)" : "Sweep"} at ${report.now}, ${report.durationMs} ms${report.aborted ? ", interrupted" : ""}:`];
  for (const [job, r] of Object.entries(report.jobs)) {
    const counts = Object.entries(r.counts).map(([action, n]) => `${action} ${n}`);
    const words = [...(counts.length > 0 ? counts : ["nothing to do"]), `${r.bytes} bytes`, `${r.durationMs} ms`];
    if (r.errors > 0) words.push(`${r.errors} with errors`);
    if (r.failure !== undefined) words.push(`FAILED: ${r.failure}`);
    lines.push(`  ${job.padEnd(10)} ${words.join(", ")}`);
  }
  return `${lines.join("\n")}\n`;
}

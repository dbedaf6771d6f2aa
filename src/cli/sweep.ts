import { Command } from "commander";
import type { Env } from "../config/load.js";
import { configFor } from "./load-config.js";

/** `stowage sweep`: one cleanup run now, as `serve` does on its schedule. */
export function buildSweepCommand(env: Env): Command {
  return new Command("sweep")
    .description("Clean up now: abandoned and unattached uploads, retention rules, missing objects, orphan objects, old history.")
    .option("--dry-run", "list what would be expired or deleted; change nothing")
    .option("--json", "print the report (and in a dry run every item) as JSON")
    .addHelpText(
      "after",
      `
Cutoffs: STOWAGE_SWEEP_ABANDONED_GRACE_SECONDS (default 3600) after a pending upload's URL
expired, STOWAGE_SWEEP_ORPHAN_GRACE_SECONDS (default 86400) for objects with no upload,
STOWAGE_HISTORY_DAYS (default 30; 0 keeps it forever) for purging finished upload rows,
settled outbox events and links that are over (jobs history, outbox, links).
Uploads under compliance retention are never touched. Exits 1 if anything failed.`,
    )
    .action(async (options: { dryRun?: true; json?: true }) => {
      const [{ runSweep }, { hasProblems }] = await Promise.all([import("./sweep-run.js"), import("../sweeper/run.js")]);
      const report = await runSweep(await configFor(env), { dryRun: options.dryRun === true, json: options.json === true });
      if (hasProblems(report)) process.exitCode = 1;
    });
}

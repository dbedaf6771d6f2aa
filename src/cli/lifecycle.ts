import { Command } from "commander";
import type { Env } from "../config/load.js";
import { configFor } from "./load-config.js";

/** `stowage lifecycle …`: the store's own copy of the sweeper's retention rules. */
export function buildLifecycleCommand(env: Env): Command {
  const lifecycle = new Command("lifecycle").description("Bucket lifecycle rules that mirror the sweeper's retention rules.").showHelpAfterError();
  lifecycle
    .command("apply")
    .description("Set each S3 bucket's lifecycle rules from the policies (expireAfterDays), and drop unfinished multipart uploads.")
    .option("--dry-run", "print the rules, change nothing")
    .action(async (options: { dryRun?: true }) => {
      const { apply } = await import("./lifecycle-apply.js");
      await apply(await configFor(env), options.dryRun === true);
    });
  return lifecycle;
}

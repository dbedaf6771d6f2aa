import { join } from "node:path";
import { Command, InvalidArgumentError, Option } from "commander";
import type { Env } from "../config/load.js";
import { parseOrigin } from "../storage/origin.js";
import { configFor } from "./load-config.js";

/** `stowage storage …`: prepare the configured object store and migrate objects into it. */
export function buildStorageCommand(env: Env): Command {
  const storage = new Command("storage")
    .description("Prepare object storage (CORS, buckets) and copy objects between backends.")
    .showHelpAfterError();

  storage
    .command("cors")
    .description("Let browsers on the given origins upload straight to every configured S3 bucket (replaces its CORS rules).")
    .option("--origin <url>", "a web app origin, e.g. https://app.example.com; repeat for more", collectOrigin)
    .option("--dry-run", "print the rules without applying them")
    .action(async (options: { origin?: string[]; dryRun?: true }) => {
      const { cors } = await import("./storage-prepare.js");
      await cors(await configFor(env), { ...options, origin: options.origin ?? [] });
    });

  storage
    .command("init")
    .description("Create missing buckets and check these credentials can write, read and delete in each.")
    .action(async () => {
      const { init } = await import("./storage-prepare.js");
      await init(await configFor(env));
    });

  storage
    .command("copy")
    .description("Copy every object from the local disk backend into the configured S3 storage (resumable).")
    .addOption(new Option("--from <backend>", "where the objects are now").choices(["local"]).makeOptionMandatory())
    .addOption(new Option("--to <backend>", "where they go: the configured S3 storage").choices(["s3"]).makeOptionMandatory())
    .option("--from-dir <dir>", "the local storage directory, holding objects/ and meta/ (default: $STOWAGE_DATA_DIR/storage)")
    .option("--dry-run", "list what would be copied, copy nothing")
    .addHelpText(
      "after",
      `
Keys and logical bucket names stay the same on both sides, so no database record changes:
once the copy has finished, restart Stowage with STOWAGE_STORAGE=s3 and it serves the same
uploads from S3. Objects already in S3 with the same size and MD5 are skipped, so after an
interruption run the same command again to continue. The local files are left in place.

To switch with little downtime: copy while Stowage still runs on local disk, stop it, copy
again (only what arrived meanwhile is copied), then start it with the S3 settings.`,
    )
    .action(async (options: { fromDir?: string; dryRun?: true }) => {
      const config = await configFor(env);
      const { copyToS3 } = await import("./storage-copy.js");
      await copyToS3(config, { fromDir: options.fromDir ?? join(config.dataDir, "storage"), dryRun: options.dryRun === true });
    });

  return storage;
}

function collectOrigin(value: string, previous: string[] = []): string[] {
  try {
    return [...previous, parseOrigin(value)];
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
}

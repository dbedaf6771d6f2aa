import { Command, InvalidArgumentError } from "commander";
import type { Env } from "../config/load.js";
import { makeDataDirPrivate } from "../config/data-dir.js";
import { SERVE_SECRETS, TOKEN_SECRETS } from "../config/secrets.js";
import { buildEventsCommand } from "./events.js";
import { buildLifecycleCommand } from "./lifecycle.js";
import { configFor } from "./load-config.js";
import { buildStorageCommand } from "./storage.js";
import { buildSweepCommand } from "./sweep.js";
import { buildUploadCommand } from "./upload.js";

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1)
    throw new InvalidArgumentError("must be a whole number of seconds, at least 1");
  return n;
}

/**
 * The `stowage` command line. Config is read from `env` here, once, and passed down. Each
 * command's own modules (the server, the store, the AWS SDK) are imported when it runs, so
 * `stowage upload` and `--help` start without them.
 */
export function buildProgram(env: Env): Command {
  const program = new Command("stowage")
    .description("Direct-to-storage user media uploads: presign, verified confirm, quotas.")
    .showHelpAfterError();

  program
    .command("serve")
    .description("Start the HTTP service (runs migrations first on the embedded default).")
    .option("--host <host>", "address to listen on (STOWAGE_HOST)")
    .option("--port <port>", "port to listen on (STOWAGE_PORT)")
    .action(async (options: { host?: string; port?: string }) => {
      const overrides = {
        ...(options.host === undefined ? {} : { STOWAGE_HOST: options.host }),
        ...(options.port === undefined ? {} : { STOWAGE_PORT: options.port }),
      };
      const config = await configFor({ ...env, ...overrides }, SERVE_SECRETS);
      const problem = makeDataDirPrivate(config.dataDir);
      if (problem !== undefined) process.stderr.write(`stowage: warning: ${problem}\n`);
      const { serve } = await import("./serve.js");
      await serve(config);
    });

  program
    .command("migrate")
    .description("Apply database migrations and exit.")
    // No secrets: a migration signs nothing, and must not leave secret files where it ran.
    .action(async () => {
      const config = await configFor(env);
      const { migrate } = await import("./migrate.js");
      await migrate(config);
    });

  program
    .command("token")
    .description("Mint a bearer token for local trying (needs a local secret, not a JWKS URL).")
    .requiredOption("--user <id>", "the user the token is for (its subject)")
    .option(
      "--role <role>",
      "a role to grant; repeat for more",
      (value: string, all: string[]) => [...all, value],
      [],
    )
    .option("--ttl <seconds>", "lifetime in seconds", positiveInt, 3600)
    .option("--org <id>", "an organization whose quota is charged too (the `org` claim)")
    .action(async (options: { user: string; role: string[]; ttl: number; org?: string }) => {
      // Read, never create: a secret of its own would mint tokens the server refuses.
      const config = await configFor(env, TOKEN_SECRETS);
      const { token } = await import("./token.js");
      await token(config, options);
    });

  program.addCommand(buildStorageCommand(env));
  program.addCommand(buildSweepCommand(env));
  program.addCommand(buildLifecycleCommand(env));
  program.addCommand(buildUploadCommand(env));
  program.addCommand(buildEventsCommand(env));

  return program;
}

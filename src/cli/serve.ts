import type { Config } from "../config/schema.js";
import { createLogger } from "../logger.js";
import { createRuntime } from "../runtime.js";
import { describeDatabase } from "../store/open.js";
import { sweepOnSchedule } from "../sweeper/schedule.js";

/** `stowage serve`: start the HTTP service and stop cleanly on SIGINT/SIGTERM. */
export async function serve(config: Config): Promise<void> {
  const logger = createLogger(config.logLevel);
  for (const file of config.generatedSecretFiles) {
    logger.warn({ file }, "generated a local secret; set it through the environment in production");
  }
  const runtime = await createRuntime(config, logger);
  const address = await runtime.app.listen({ host: config.host, port: config.port });
  const lines = [
    "",
    `  Stowage is listening on ${address}`,
    `  Public base URL:   ${config.baseUrl}`,
    config.storage.kind === "s3"
      ? `  Objects:           s3 ${config.storage.endpoint ?? `AWS ${config.storage.region}`} bucket ${config.storage.bucket}`
      : `  Objects:           ${config.dataDir}/storage`,
    `  Metadata:          ${describeDatabase(config.database)}`,
    config.jwt.kind === "secret"
      ? "  Get a token:       npm run -s stowage -- token --user alice"
      : `  Tokens come from:  ${config.jwt.jwksUrl}`,
    `  Try it:            curl -H "Authorization: Bearer $TOKEN" ${config.baseUrl}/v1/quota`,
    "",
  ];
  process.stderr.write(`${lines.join("\n")}\n`);
  const sweeps = sweepOnSchedule(config, runtime, logger);

  let closing = false;
  const shutdown = (signal: string) => {
    if (closing) return;
    closing = true;
    logger.info({ signal }, "shutting down");
    // The sweep in progress is aborted first: it must not run on a closed store.
    sweeps.stop().then(() => runtime.close()).then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  process.once("SIGINT", () => shutdown("SIGINT"));
  process.once("SIGTERM", () => shutdown("SIGTERM"));
}

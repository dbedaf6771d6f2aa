import type { Config } from "../config/schema.js";
import { createLogger } from "../logger.js";
import { createRuntime } from "../runtime.js";
import { describeDatabase } from "../store/open.js";
import { sweepOnSchedule } from "../sweeper/schedule.js";
import { type SignInLink, signInLink } from "./sign-in-link.js";
import { tokenHint } from "./token-hint.js";

/** `stowage serve`: start the HTTP service and stop cleanly on SIGINT/SIGTERM. */
export async function serve(config: Config): Promise<void> {
  const logger = createLogger(config.logLevel);
  for (const file of config.generatedSecretFiles) {
    logger.warn({ file }, "generated a local secret; set it through the environment in production");
  }
  const runtime = await createRuntime(config, logger);
  const address = await runtime.listen();
  const page = runtime.uploadPage ? await signInLink(config) : undefined;
  const lines = [
    "",
    `  Stowage is listening on ${address}`,
    `  Public base URL:   ${config.baseUrl}`,
    config.storage.kind === "s3"
      ? `  Objects:           s3 ${config.storage.endpoint ?? `AWS ${config.storage.region}`} bucket ${config.storage.bucket}`
      : `  Objects:           ${config.dataDir}/storage`,
    `  Metadata:          ${describeDatabase(config.database)}`,
    config.jwt.kind === "secret"
      ? `  Get a token:       ${tokenHint(config, { cwd: process.cwd() })}`
      : `  Tokens come from:  ${config.jwt.jwksUrl}`,
    `  Try it:            curl -H "Authorization: Bearer $TOKEN" ${config.baseUrl}/v1/quota`,
    ...(page === undefined ? [] : [`  Upload page:       ${page.url}${signedInNote(page)}`]),
    ...(config.api.docs ? [`  API docs:          ${config.baseUrl}/docs (OpenAPI: ${config.baseUrl}/openapi.json)`] : []),
    `  GraphQL:           ${config.baseUrl}/graphql`,
    ...(config.metrics.enabled ? [`  Metrics:           ${metricsUrl(config)}${config.metrics.token === undefined ? "" : " (bearer STOWAGE_METRICS_TOKEN)"}`] : []),
    "",
  ];
  process.stderr.write(`${lines.join("\n")}\n`);
  const sweeps = sweepOnSchedule(config, runtime, logger);
  runtime.startWorkers();

  let closing = false;
  const shutdown = (signal: string) => {
    if (closing) return;
    closing = true;
    const graceMs = config.connections.shutdownTimeoutSeconds * 1000;
    logger.info({ signal, graceSeconds: config.connections.shutdownTimeoutSeconds }, "shutting down");
    // The last resort, should closing the store itself hang: never a process that will not go.
    setTimeout(() => {
      logger.error("shutdown did not finish in time; exiting");
      process.exit(1);
    }, graceMs + 15_000).unref();
    // Requests in flight finish (up to the grace) while the sweep in progress is aborted; the
    // store closes only once neither can touch it.
    Promise.all([runtime.stopServing(graceMs), sweeps.stop()])
      .then(() => runtime.close())
      .then(
        () => {
          logger.info("stopped");
          process.exit(0);
        },
        (error: unknown) => {
          logger.error({ err: error }, "shutdown failed");
          process.exit(1);
        },
      );
  };
  process.once("SIGINT", () => shutdown("SIGINT"));
  process.once("SIGTERM", () => shutdown("SIGTERM"));
}

/** What the printed link does: sign in a local user, for a while; or nothing (paste a token). */
function signedInNote(link: SignInLink): string {
  if (link.user === undefined || link.ttlSeconds === undefined) return "   (sign in with a token)";
  const s = link.ttlSeconds;
  const lasts = s % 3600 === 0 ? `${s / 3600} h` : s % 60 === 0 ? `${s / 60} min` : `${s} s`;
  return `   (signs you in as ${link.user} for ${lasts})`;
}

/** Where `/metrics` is served: the metrics port when there is one, else the main port. */
function metricsUrl(config: Config): string {
  if (config.metrics.port === undefined) return `${config.baseUrl}/metrics`;
  return `http://${config.host.includes(":") ? `[${config.host}]` : config.host}:${config.metrics.port}/metrics`;
}

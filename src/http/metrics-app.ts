import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import Fastify, { type FastifyBaseLogger } from "fastify";
import type { Metrics } from "../metrics/registry.js";
import { errorHandler, frameworkErrorHandler, notFoundHandler } from "./error-handler.js";
import { registerMetrics } from "./routes/metrics.js";
import type { App } from "./types.js";

/**
 * The listener of `STOWAGE_METRICS_PORT`: `GET /metrics` and nothing else, so the port can be
 * opened to the scraper alone. Its own requests are not counted (they would only describe the
 * scraper); every other path answers 404 in the one error shape.
 */
export function buildMetricsApp(options: { metrics: Metrics; token: string | undefined; logger: FastifyBaseLogger }): App {
  const app = Fastify({
    loggerInstance: options.logger,
    frameworkErrors: frameworkErrorHandler,
    // A scrape is one small request; nothing on this port needs longer.
    requestTimeout: 10_000,
    connectionTimeout: 10_000,
  }).withTypeProvider<TypeBoxTypeProvider>();
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler(notFoundHandler);
  registerMetrics(app, { metrics: options.metrics, token: options.token });
  return app;
}

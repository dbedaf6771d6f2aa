import { createHash, timingSafeEqual } from "node:crypto";
// Its types add `hide` to route schemas (the OpenAPI document leaves such routes out).
import type {} from "@fastify/swagger";
import type { FastifyRequest } from "fastify";
import { StowageError } from "../../errors.js";
import type { Metrics } from "../../metrics/registry.js";
import type { App } from "../types.js";

/**
 * `GET /metrics`: the Prometheus exposition of this instance. Outside `/v1` and never behind
 * the JWT (a scraper has no user); with a token configured, it must come as
 * `Authorization: Bearer <token>`. Hidden from the OpenAPI document (`hide`).
 */
export function registerMetrics(app: App, options: { metrics: Metrics; token: string | undefined }): void {
  const { metrics, token } = options;
  app.get(
    "/metrics",
    { schema: { hide: true }, onRequest: token === undefined ? [] : [requireMetricsToken(token)] },
    async (_request, reply) => {
      const { contentType, body } = await metrics.scrape();
      return reply.type(contentType).send(body);
    },
  );
}

/**
 * An `onRequest` hook that lets through only `Authorization: Bearer <token>`. Both sides are
 * hashed before the constant-time comparison, so neither the token's content nor its length
 * shows in the timing.
 */
export function requireMetricsToken(token: string) {
  const expected = digest(token);
  return async (request: FastifyRequest): Promise<void> => {
    const header = request.headers.authorization;
    const given = header?.startsWith("Bearer ") === true ? header.slice("Bearer ".length) : undefined;
    if (given === undefined || !timingSafeEqual(digest(given), expected)) {
      throw new StowageError("UNAUTHENTICATED", "Send 'Authorization: Bearer <STOWAGE_METRICS_TOKEN>'.");
    }
  };
}

function digest(value: string): Buffer {
  return createHash("sha256").update(value).digest();
}

import { randomUUID } from "node:crypto";
import cors from "@fastify/cors";
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import Fastify, { type FastifyBaseLogger } from "fastify";
import { requireCaller } from "./auth.js";
import { errorHandler, notFoundHandler } from "./error-handler.js";
import { registerAttachUploads } from "./routes/attach-uploads.js";
import { registerCompleteUpload } from "./routes/complete-upload.js";
import { registerConfirmUpload } from "./routes/confirm-upload.js";
import { registerCreateUpload } from "./routes/create-upload.js";
import { registerDeleteUpload } from "./routes/delete-upload.js";
import { registerDownloadUpload } from "./routes/download-upload.js";
import { registerGetQuota } from "./routes/get-quota.js";
import { registerGetUpload } from "./routes/get-upload.js";
import { registerHealth } from "./routes/health.js";
import { registerListUploads } from "./routes/list-uploads.js";
import { registerSignParts } from "./routes/sign-parts.js";
import { registerLocalObjects } from "./routes/local-objects.js";
import type { App, HttpDeps } from "./types.js";

export interface AppOptions {
  logger: FastifyBaseLogger;
  /** Trust `X-Forwarded-*` from a load balancer in front. */
  trustProxy?: boolean;
  /** Browser origins allowed to call the API and, on local storage, to PUT objects. */
  corsOrigins?: readonly string[];
}

/**
 * Builds the HTTP app: public routes (health, the local object endpoint) and the `/v1` API
 * behind bearer-token auth, in separate scopes. Routes parse, call one service function, answer.
 */
export function buildApp(deps: HttpDeps, options: AppOptions): App {
  const app = Fastify({
    loggerInstance: options.logger,
    trustProxy: options.trustProxy ?? false,
    genReqId: (request) => {
      const given = request.headers["x-request-id"];
      return typeof given === "string" && /^[\w.-]{1,128}$/.test(given) ? given : randomUUID();
    },
    // Reject unknown fields instead of silently dropping them; query strings still coerce.
    ajv: { customOptions: { removeAdditional: false, coerceTypes: "array", allErrors: true } },
    bodyLimit: 64 * 1024,
  }).withTypeProvider<TypeBoxTypeProvider>();

  if (options.corsOrigins !== undefined && options.corsOrigins.length > 0) {
    // Answers preflights for the API and for the local object endpoint alike: browsers PUT
    // with Content-Type, Cache-Control and If-None-Match, and read ETag to complete multipart.
    void app.register(cors, {
      origin: [...options.corsOrigins],
      methods: ["GET", "HEAD", "PUT", "POST", "DELETE"],
      allowedHeaders: ["authorization", "content-type", "cache-control", "if-none-match", "x-request-id"],
      exposedHeaders: ["ETag", "X-Request-Id"],
      maxAge: 3600,
    });
  }
  app.decorateRequest("caller", undefined);
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler(notFoundHandler);
  // Set on arrival, so error answers carry it too; a synchronous hook costs less than onSend.
  app.addHook("onRequest", (request, reply, done) => {
    void reply.header("X-Request-Id", request.id);
    done();
  });

  registerHealth(app, deps);
  if (deps.localDriver !== undefined) registerLocalObjects(app, deps.localDriver);

  void app.register(async (api) => {
    api.addHook("preHandler", requireCaller(deps.verifyToken));
    registerCreateUpload(api, deps);
    registerAttachUploads(api, deps);
    registerListUploads(api, deps);
    registerGetUpload(api, deps);
    registerConfirmUpload(api, deps);
    registerSignParts(api, deps);
    registerCompleteUpload(api, deps);
    registerDownloadUpload(api, deps);
    registerDeleteUpload(api, deps);
    registerGetQuota(api, deps);
  });
  return app;
}

import { randomUUID } from "node:crypto";
import cors from "@fastify/cors";
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import Fastify, { type FastifyBaseLogger } from "fastify";
import { StowageError } from "../errors.js";
import type { Metrics } from "../metrics/registry.js";
import { requireCaller } from "./auth.js";
import { clientErrorHandler } from "./client-errors.js";
import { registerDocs } from "./docs.js";
import { type ConnectionLimits, guardBody, hasBody, limitConnections, markWorking, serverOptionsOf } from "./connection-limits.js";
import { errorHandler, frameworkErrorHandler, notFoundHandler } from "./error-handler.js";
import { observeRequests } from "./metrics.js";
import { OneLineRequestLog } from "./request-log.js";
import { registerAttachUploads } from "./routes/attach-uploads.js";
import { registerCompleteUpload } from "./routes/complete-upload.js";
import { registerConfirmUpload } from "./routes/confirm-upload.js";
import { registerCreateUpload } from "./routes/create-upload.js";
import { registerDeleteUpload } from "./routes/delete-upload.js";
import { registerDownloadUpload } from "./routes/download-upload.js";
import { registerGetQuota } from "./routes/get-quota.js";
import { registerGetUpload } from "./routes/get-upload.js";
import { registerHealth } from "./routes/health.js";
import { registerListParts } from "./routes/list-parts.js";
import { registerListPolicies } from "./routes/list-policies.js";
import { registerListUploads } from "./routes/list-uploads.js";
import { registerSignParts } from "./routes/sign-parts.js";
import { registerUploadLinks } from "./routes/upload-links.js";
import { registerLocalObjects } from "./routes/local-objects.js";
import { registerMetrics } from "./routes/metrics.js";
import type { App, HttpDeps } from "./types.js";
import { registerUploadPage, type UploadPageOptions } from "./upload-page.js";
import { validatorFactory } from "./validators.js";

export interface AppOptions {
  logger: FastifyBaseLogger;
  /** Trust `X-Forwarded-*` from a load balancer in front (`STOWAGE_TRUST_PROXY`). */
  trustProxy?: boolean | number | string[];
  /** Browser origins allowed to call the API and, on local storage, to PUT objects. */
  corsOrigins?: readonly string[];
  /** Timeouts and the connection cap (`connection-limits.ts`). */
  limits: ConnectionLimits;
  /** Serve the OpenAPI document (`/openapi.json`) and its page (`/docs`), for this version and URL. */
  docs?: { version: string; serverUrl: string } | undefined;
  /**
   * Other API surfaces (GraphQL), each mounted in a scope of its own with the API's body guard;
   * each checks its caller itself, answering in its own shape.
   */
  surfaces?: readonly ((scope: App) => void)[];
  /**
   * Requests are counted into `metrics` (`metrics.ts`); with `route`, `GET /metrics` is served
   * here too, behind `route.token` when there is one. Absent: metrics are off.
   */
  metrics?: { metrics: Metrics; route: { token: string | undefined } | undefined } | undefined;
  /** Serve the upload page at `/` (and its assets under `/page/`). Absent: `/` is a 404. */
  uploadPage?: UploadPageOptions | undefined;
}

/**
 * Builds the HTTP app: public routes (health, the local object endpoint) and the `/v1` API
 * behind bearer-token auth, in separate scopes. Routes parse, call one service function, answer.
 */
export function buildApp(deps: HttpDeps, options: AppOptions): App {
  const app = Fastify({
    loggerInstance: options.logger,
    // One line per request, not Fastify's two (see request-log.ts).
    logController: new OneLineRequestLog(),
    // A hop count is what proxy-addr's compiled function does: trust the nearest `hops` proxies.
    trustProxy: typeof options.trustProxy === "number" ? trustHops(options.trustProxy) : (options.trustProxy ?? false),
    genReqId: (request) => {
      const given = request.headers["x-request-id"];
      return typeof given === "string" && /^[\w.-]{1,128}$/.test(given) ? given : randomUUID();
    },
    // Query strings, params and headers coerce; JSON bodies must match their types exactly.
    schemaController: { compilersFactory: { buildValidator: validatorFactory() } },
    bodyLimit: 64 * 1024,
    // Router and HTTP parser refusals answer in the one error shape too.
    frameworkErrors: frameworkErrorHandler,
    clientErrorHandler,
    // Fastify's own 503 while closing has a body of its own and no request id: refused below instead.
    return503OnClosing: false,
    ...serverOptionsOf(options.limits),
  }).withTypeProvider<TypeBoxTypeProvider>();
  limitConnections(app, options.limits);
  if (options.metrics !== undefined) observeRequests(app, options.metrics.metrics);

  if (options.corsOrigins !== undefined && options.corsOrigins.length > 0) {
    // Answers preflights for the API and for the local object endpoint alike: browsers PUT
    // with Content-Type, Cache-Control, If-None-Match and (when signed) Content-MD5, and read
    // ETag to complete multipart.
    void app.register(cors, {
      origin: [...options.corsOrigins],
      methods: ["GET", "HEAD", "PUT", "POST", "DELETE"],
      allowedHeaders: ["authorization", "content-type", "cache-control", "if-none-match", "content-md5", "x-request-id"],
      exposedHeaders: ["ETag", "X-Request-Id"],
      maxAge: 3600,
    });
  }
  app.decorateRequest("caller", undefined);
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler(notFoundHandler);
  // The API is JSON only: a text/plain body is refused as 415, not parsed into a string.
  app.removeContentTypeParser("text/plain");
  // A request arriving on an open keep-alive connection while the server drains (Fastify closes
  // the connection after the answer): refused in the one error shape, before anything runs.
  let closing = false;
  app.addHook("preClose", (done) => {
    closing = true;
    done();
  });
  // Set on arrival, so error answers carry it too; a synchronous hook costs less than onSend.
  app.addHook("onRequest", (request, reply, done) => {
    void reply.header("X-Request-Id", request.id);
    if (closing) return done(new StowageError("SHUTTING_DOWN", "This server is shutting down: send the request again."));
    done();
  });

  // Before the routes: the document is generated from the routes registered after it.
  if (options.docs !== undefined) registerDocs(app, options.docs);
  void app.register(async (root) => {
    registerRoutes(root, deps, options);
  });
  return app;
}

/** Public routes (health, the local object endpoint, the upload page), and the `/v1` API behind the bearer token. */
function registerRoutes(app: App, deps: HttpDeps, options: AppOptions): void {
  registerHealth(app, deps);
  if (options.metrics?.route !== undefined) registerMetrics(app, { metrics: options.metrics.metrics, token: options.metrics.route.token });
  if (deps.localDriver !== undefined) registerLocalObjects(app, deps.localDriver, options.limits);
  if (options.uploadPage !== undefined) registerUploadPage(app, options.uploadPage);

  void app.register(async (api) => {
    neverCached(api);
    // On arrival, before any body is read: a request without a valid token costs nothing more.
    api.addHook("onRequest", requireCaller(deps.authenticate));
    guardApiBodies(api, options.limits);
    registerCreateUpload(api, deps);
    registerAttachUploads(api, deps);
    registerListUploads(api, deps);
    registerGetUpload(api, deps);
    registerConfirmUpload(api, deps);
    registerSignParts(api, deps);
    registerListParts(api, deps);
    registerCompleteUpload(api, deps);
    registerDownloadUpload(api, deps);
    registerDeleteUpload(api, deps);
    registerGetQuota(api, deps);
    registerListPolicies(api, deps);
    registerUploadLinks(api, deps);
  });
  for (const surface of options.surfaces ?? []) {
    void app.register(async (scope) => {
      neverCached(scope);
      guardApiBodies(scope, options.limits);
      surface(scope);
    });
  }
}

/**
 * API answers are never cached: a browser caches a GET by its URL alone, whatever
 * `Authorization` it was sent with, so one token's answer (a revoked link's 410) would answer
 * for the next. Set on arrival, before the token is checked, so refusals carry it too.
 */
function neverCached(scope: App): void {
  scope.addHook("onRequest", (request, reply, done) => {
    void reply.header("Cache-Control", "no-store");
    done();
  });
}

/** API bodies are small: the whole of one must arrive in time, not just keep trickling. */
function guardApiBodies(scope: App, limits: ConnectionLimits): void {
  scope.addHook("preParsing", (request, reply, payload, done) => {
    if (!hasBody(request.headers)) return done(null, payload);
    const guarded = guardBody(payload, { stallMs: limits.stallTimeoutMs, deadlineMs: limits.requestTimeoutMs });
    // Answered without reading the body (a 413 on its declared length, a 415): the guard goes too.
    reply.raw.once("close", () => guarded.destroy());
    done(null, guarded);
  });
  markWorking(scope);
}

function trustHops(hops: number): (address: string, hop: number) => boolean {
  return (_address, hop) => hop < hops;
}

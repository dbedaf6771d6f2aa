import { createRequire } from "node:module";
import { join } from "node:path";
import type { Logger } from "pino";
import type { Redis } from "ioredis";
import { createVerifier } from "./auth/jwt.js";
import { connectRedis } from "./cache/redis.js";
import { RedisRateLimiter } from "./cache/redis-rate-limiter.js";
import { RedisUrlCache } from "./cache/redis-url-cache.js";
import type { Config } from "./config/schema.js";
import { ConfigError } from "./errors.js";
import { registerGraphql } from "./graphql/plugin.js";
import { buildApp } from "./http/app.js";
import { authenticator } from "./auth/authenticate.js";
import { LinkService } from "./links/service.js";
import { connectionLimitsOf } from "./http/connection-limits.js";
import { buildMetricsApp } from "./http/metrics-app.js";
import { isPageBuilt } from "./http/upload-page.js";
import type { App } from "./http/types.js";
import { Metrics } from "./metrics/registry.js";
import { uploadMetrics } from "./metrics/upload-metrics.js";
import { packageRoot } from "./package-root.js";
import type { StorageDriver } from "./storage/driver.js";
import { type Storage, storageFromConfig } from "./storage/from-config.js";
import { checkBuckets } from "./storage/s3/check.js";
import { openStore } from "./store/open.js";
import type { MetadataStore } from "./store/store.js";
import { MemoryUrlCache, type UrlCache } from "./uploads/download-urls.js";
import { MemoryRateLimiter, type RateLimiter } from "./uploads/rate-limit.js";
import { UploadService } from "./uploads/service.js";
import { Dispatcher } from "./events/dispatcher.js";
import { type EventListener, Listeners } from "./events/listeners.js";
import { derivativesSubscriber, scanSubscriber } from "./events/work-subscribers.js";
import { ClamdScanner } from "./scanning/clamd.js";
import { webhookSubscriber } from "./webhooks/subscriber.js";

/** Everything a running Stowage holds, built from a validated config. */
export interface Runtime {
  app: App;
  store: MetadataStore;
  driver: StorageDriver;
  storage: Storage;
  service: UploadService;
  /** This instance's metrics; undefined when they are off (`STOWAGE_METRICS`). */
  metrics: Metrics | undefined;
  /** The listener of `STOWAGE_METRICS_PORT`, when set. */
  metricsApp: App | undefined;
  /** `/` serves the upload page: it is on (`STOWAGE_UPLOAD_PAGE`) and built. */
  uploadPage: boolean;
  /**
   * Moves the outbox along (webhooks, scanning, derivatives, `onEvent`): started by `serve`
   * (`startWorkers`), stopped by `close`.
   */
  dispatcher: Dispatcher;
  /** Starts the dispatcher. */
  startWorkers(): void;
  /**
   * In-process subscription to upload events, fed from the same outbox as webhooks: each
   * committed change at least once (dedupe on `event.id`), none that rolled back. Returns what
   * unsubscribes. Events go to listeners only while the dispatcher runs.
   */
  onEvent(listener: EventListener): () => void;
  /**
   * Removes the local driver's temp files that no upload can still be writing (a killed
   * process's): at start-up, and with every scheduled sweep. Nothing to do on S3.
   */
  removeStaleTemp(): Promise<number>;
  /** Listens on the configured host and port (and the metrics port); answers the main address. */
  listen(): Promise<string>;
  /**
   * Stops accepting connections, lets requests in flight finish for up to `graceMs`, then
   * closes every connection left (a stalled client cannot hold a shutdown). Idempotent.
   */
  stopServing(graceMs: number): Promise<void>;
  /** `stopServing`, then closes the database and Redis. */
  close(graceMs?: number): Promise<void>;
}

/**
 * The composition root: builds the store, the storage driver, the service and the HTTP app
 * from config, and runs migrations (the embedded default needs no separate `migrate` step).
 * Wrong S3 credentials or a missing bucket stop the start with the setting to fix.
 */
export async function createRuntime(config: Config, logger: Logger): Promise<Runtime> {
  const storage = storageFromConfig(config);
  const removeStaleTemp = async (): Promise<number> => {
    if (storage.local === undefined) return 0;
    // A temp file is written to at least every stall timeout while its upload moves, and no
    // upload URL outlives the longest policy TTL: one untouched for longer has no writer left.
    const longestTtlSeconds = Math.max(...config.policies.map((p) => p.urlTtlSeconds));
    const removed = await storage.local.removeStaleTemp(Math.max(longestTtlSeconds, config.connections.stallTimeoutSeconds) * 1000);
    if (removed > 0) logger.info({ removed }, "removed temp files a killed process left");
    return removed;
  };
  if (storage.local !== undefined) {
    await storage.local.init();
    await removeStaleTemp();
  }
  if (storage.s3 !== undefined) {
    const checks = await checkBuckets(storage.s3);
    const fatal = checks.filter((c) => !c.ok && !c.unreachable).map((c) => c.problem ?? c.bucket);
    if (fatal.length > 0) throw new ConfigError(fatal);
    // An unreachable store may come back: start, and let /readyz say not ready meanwhile.
    for (const check of checks) if (check.unreachable) logger.warn({ bucket: check.bucket }, check.problem);
  }
  const store = openStore(config.database);
  await store.migrate();
  const { driver } = storage;
  const metrics = config.metrics.enabled
    ? new Metrics({ ownerTypes: config.policies.map((p) => p.ownerType), redis: config.redisUrl !== undefined })
    : undefined;
  const shared = sharedState(config, logger, metrics);
  let committed = (): void => undefined;
  const policies = new Map(config.policies.map((p) => [p.ownerType, p]));
  const service = new UploadService({
    observe: metrics === undefined ? undefined : uploadMetrics(metrics),
    urlCache: shared.urlCache,
    presignRateLimit:
      config.presignPerMinute > 0 ? { limiter: shared.rateLimiter, limit: config.presignPerMinute, windowSeconds: 60 } : undefined,
    linkPresignRateLimit:
      config.linkPresignPerMinute > 0 ? { limiter: shared.rateLimiter, limit: config.linkPresignPerMinute, windowSeconds: 60 } : undefined,
    store,
    driver,
    policies,
    defaultQuotaBytes: config.defaultQuotaBytes,
    defaultOrgQuotaBytes: config.defaultOrgQuotaBytes,
    maxPendingUploads: config.maxPendingUploads,
    stagingBucket: config.stagingBucket,
    downloadTtlSeconds: config.downloadTtlSeconds,
    onWarning: (message, context) => logger.warn(context, message),
    onCommitted: () => committed(),
  });
  const listeners = new Listeners();
  const scanner = config.scanner && new ClamdScanner({
    host: config.scanner.host,
    port: config.scanner.port,
    timeoutMs: config.scanner.timeoutSeconds * 1000,
    streamMaxBytes: config.scanner.streamMaxBytes,
  });
  const derived = new Set(config.policies.filter((p) => Object.keys(p.derivatives ?? {}).length > 0).map((p) => p.ownerType));
  const dispatcher = new Dispatcher({
    store: store.events,
    subscribers: [
      listeners,
      ...config.webhooks.map((endpoint) => webhookSubscriber(endpoint, packageVersion())),
      ...(scanner === undefined ? [] : [scanSubscriber(service, scanner, { timeoutSeconds: config.scanner?.timeoutSeconds ?? 60 })]),
      ...(derived.size === 0 ? [] : [derivativesSubscriber(service, derived)]),
    ],
    // Instances without a scanner (a rolling deploy that adds one) still give scans a row.
    holdFor: (event) => (event.type === "scan.requested" ? ["scanner"] : []),
    idleMs: config.events.pollMilliseconds,
    onError: (error) => logger.warn({ err: error }, "event dispatch failed; retrying"),
    onAttempt: (attempt) => {
      if (attempt.outcome !== "done") logger.warn(attempt, "event delivery attempt failed");
      else logger.debug(attempt, "event delivered");
    },
  });
  committed = () => dispatcher.nudge();
  const links = new LinkService({
    store: store.links,
    policies,
    baseUrl: config.baseUrl,
    addressRateLimit:
      config.linkAddressPerMinute > 0 ? { limiter: shared.rateLimiter, limit: config.linkAddressPerMinute, windowSeconds: 60 } : undefined,
    onCommitted: () => committed(),
    retire: (uploads) => service.retire(uploads),
  });
  const authenticate = authenticator(createVerifier(config.jwt), links);
  const uploadPage = config.uploadPage.enabled && isPageBuilt(config.uploadPage.dir);
  if (config.uploadPage.enabled && !uploadPage) {
    // Not fatal: the API is what matters, and `node --import tsx src/main.ts serve` builds nothing.
    logger.warn({ dir: config.uploadPage.dir }, "the upload page is not built (npm run build builds it); / answers 404");
  }
  const app = buildApp(
    {
      service,
      links,
      authenticate,
      localDriver: storage.local,
      ready: async () => {
        await store.ping();
        await driver.ping();
        if (scanner === undefined) return undefined;
        return { scanner: await scanner.ping().then(() => "ok" as const, () => "unavailable" as const) };
      },
    },
    {
      logger,
      trustProxy: config.trustProxy,
      corsOrigins: config.corsOrigins,
      limits: connectionLimitsOf(config.connections),
      docs: config.api.docs ? { version: packageVersion(), serverUrl: config.baseUrl } : undefined,
      // GraphQL checks the same token on arrival, but refuses in GraphQL's answer shape.
      surfaces: [(scope) => registerGraphql(scope, {
        service,
        authenticate,
        introspection: config.api.graphqlIntrospection,
        onError: metrics && ((code) => metrics.errors.labels(code).inc()),
      })],
      // With a port of its own, /metrics is served there and not here.
      metrics: metrics && { metrics, route: config.metrics.port === undefined ? { token: config.metrics.token } : undefined },
      uploadPage: uploadPage ? { dir: config.uploadPage.dir, storageOrigins: driver.browserOrigins() } : undefined,
    },
  );
  const metricsApp = metrics !== undefined && config.metrics.port !== undefined
    ? buildMetricsApp({ metrics, token: config.metrics.token, logger })
    : undefined;
  let serving: Promise<void> | undefined;
  // The metrics listener closes after the drain, so the scraper still sees it meanwhile.
  const stopServing = (graceMs: number) => (serving ??= drain(app, graceMs).then(async () => {
    await metricsApp?.close();
  }));
  return {
    app,
    store,
    driver,
    storage,
    service,
    metrics,
    metricsApp,
    uploadPage,
    dispatcher,
    startWorkers: () => dispatcher.start(),
    onEvent: (listener) => listeners.add(listener),
    removeStaleTemp,
    async listen() {
      const address = await app.listen({ host: config.host, port: config.port });
      // Should the metrics port be taken, the main one does not stay open without it.
      await metricsApp?.listen({ host: config.host, port: config.metrics.port ?? 0 }).catch(async (error: unknown) => {
        await app.close();
        throw error;
      });
      return address;
    },
    stopServing,
    async close(graceMs = 10_000) {
      await stopServing(graceMs);
      await dispatcher.stop();
      // Uploads cut by the shutdown remove their temp files before the process goes.
      await storage.local?.settle();
      await store.close();
      shared.redis?.disconnect();
    },
  };
}

async function drain(app: App, graceMs: number): Promise<void> {
  // app.close() stops listening, closes idle keep-alive connections, answers 503 to new
  // requests on open ones, and resolves once every connection is gone.
  const cut = setTimeout(() => app.server.closeAllConnections(), graceMs);
  try {
    await app.close();
  } finally {
    clearTimeout(cut);
  }
}

/**
 * The state instances share: with `REDIS_URL`, signed-URL cache and rate limits live in Redis
 * (each backed by an in-process fallback for when Redis is down); without it, in process.
 */
function sharedState(
  config: Config,
  logger: Logger,
  metrics: Metrics | undefined,
): { urlCache: UrlCache; rateLimiter: RateLimiter; redis: Redis | undefined } {
  const memoryCache = new MemoryUrlCache();
  const memoryLimiter = new MemoryRateLimiter();
  if (config.redisUrl === undefined) return { urlCache: memoryCache, rateLimiter: memoryLimiter, redis: undefined };
  const redis = connectRedis(config.redisUrl);
  if (metrics !== undefined) {
    // Not connected means every command fails over to the fallback (the offline queue is off).
    metrics.redisFallback.set(redis.status === "ready" ? 0 : 1);
    redis.on("ready", () => metrics.redisFallback.set(0));
    redis.on("close", () => metrics.redisFallback.set(1));
  }
  let lastWarning = 0;
  const onError = (error: unknown) => {
    metrics?.redisErrors.inc();
    // One line a minute at most: during an outage every request would otherwise log one.
    if (Date.now() - lastWarning < 60_000) return;
    lastWarning = Date.now();
    logger.warn({ err: error }, "Redis unavailable; using in-process cache and rate limits");
  };
  return {
    urlCache: new RedisUrlCache(redis, memoryCache, { onError }),
    rateLimiter: new RedisRateLimiter(redis, memoryLimiter, { onError }),
    redis,
  };
}

/** This package's version (from its package.json, in a checkout and once built alike). */
function packageVersion(): string {
  return (createRequire(import.meta.url)(join(packageRoot(), "package.json")) as { version: string }).version;
}

import type { Logger } from "pino";
import type { Redis } from "ioredis";
import { createVerifier } from "./auth/jwt.js";
import { connectRedis } from "./cache/redis.js";
import { RedisRateLimiter } from "./cache/redis-rate-limiter.js";
import { RedisUrlCache } from "./cache/redis-url-cache.js";
import type { Config } from "./config/schema.js";
import { ConfigError } from "./errors.js";
import { buildApp } from "./http/app.js";
import type { App } from "./http/types.js";
import type { StorageDriver } from "./storage/driver.js";
import { type Storage, storageFromConfig } from "./storage/from-config.js";
import { checkBuckets } from "./storage/s3/check.js";
import { openStore } from "./store/open.js";
import type { MetadataStore } from "./store/store.js";
import { MemoryUrlCache, type UrlCache } from "./uploads/download-urls.js";
import { MemoryRateLimiter, type RateLimiter } from "./uploads/rate-limit.js";
import { UploadService } from "./uploads/service.js";

/** Everything a running Stowage holds, built from a validated config. */
export interface Runtime {
  app: App;
  store: MetadataStore;
  driver: StorageDriver;
  storage: Storage;
  service: UploadService;
  close(): Promise<void>;
}

/**
 * The composition root: builds the store, the storage driver, the service and the HTTP app
 * from config, and runs migrations (the embedded default needs no separate `migrate` step).
 * Wrong S3 credentials or a missing bucket stop the start with the setting to fix.
 */
export async function createRuntime(config: Config, logger: Logger): Promise<Runtime> {
  const storage = storageFromConfig(config);
  if (storage.local !== undefined) await storage.local.init();
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
  const shared = sharedState(config, logger);
  const service = new UploadService({
    urlCache: shared.urlCache,
    presignRateLimit:
      config.presignPerMinute > 0 ? { limiter: shared.rateLimiter, limit: config.presignPerMinute, windowSeconds: 60 } : undefined,
    store,
    driver,
    policies: new Map(config.policies.map((p) => [p.ownerType, p])),
    defaultQuotaBytes: config.defaultQuotaBytes,
    defaultOrgQuotaBytes: config.defaultOrgQuotaBytes,
    downloadTtlSeconds: config.downloadTtlSeconds,
    onWarning: (message, context) => logger.warn(context, message),
  });
  const app = buildApp(
    {
      service,
      verifyToken: createVerifier(config.jwt),
      localDriver: storage.local,
      ready: async () => {
        await store.ping();
        await driver.ping();
      },
    },
    { logger, corsOrigins: config.corsOrigins },
  );
  return {
    app,
    store,
    driver,
    storage,
    service,
    async close() {
      await app.close();
      await store.close();
      shared.redis?.disconnect();
    },
  };
}

/**
 * The state instances share: with `REDIS_URL`, signed-URL cache and rate limits live in Redis
 * (each backed by an in-process fallback for when Redis is down); without it, in process.
 */
function sharedState(config: Config, logger: Logger): { urlCache: UrlCache; rateLimiter: RateLimiter; redis: Redis | undefined } {
  const memoryCache = new MemoryUrlCache();
  const memoryLimiter = new MemoryRateLimiter();
  if (config.redisUrl === undefined) return { urlCache: memoryCache, rateLimiter: memoryLimiter, redis: undefined };
  const redis = connectRedis(config.redisUrl);
  let lastWarning = 0;
  const onError = (error: unknown) => {
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

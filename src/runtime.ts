import type { Logger } from "pino";
import { createVerifier } from "./auth/jwt.js";
import type { Config } from "./config/schema.js";
import { ConfigError } from "./errors.js";
import { buildApp } from "./http/app.js";
import type { App } from "./http/types.js";
import type { StorageDriver } from "./storage/driver.js";
import { type Storage, storageFromConfig } from "./storage/from-config.js";
import { checkBuckets } from "./storage/s3/check.js";
import { openSqliteStore } from "./store/sqlite.js";
import type { MetadataStore } from "./store/store.js";
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
  const store = openSqliteStore(config.database.file);
  await store.migrate();
  const { driver } = storage;
  const service = new UploadService({
    store,
    driver,
    policies: new Map(config.policies.map((p) => [p.ownerType, p])),
    defaultQuotaBytes: config.defaultQuotaBytes,
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
    },
  };
}

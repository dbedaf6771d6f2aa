import { join } from "node:path";
import type { Logger } from "pino";
import { createVerifier } from "./auth/jwt.js";
import type { Config } from "./config/schema.js";
import { buildApp } from "./http/app.js";
import type { App } from "./http/types.js";
import { LocalDriver } from "./storage/local/local-driver.js";
import { openSqliteStore } from "./store/sqlite.js";
import type { MetadataStore } from "./store/store.js";
import { UploadService } from "./uploads/service.js";

/** Everything a running Stowage holds, built from a validated config. */
export interface Runtime {
  app: App;
  store: MetadataStore;
  driver: LocalDriver;
  service: UploadService;
  close(): Promise<void>;
}

/**
 * The composition root: builds the store, the storage driver, the service and the HTTP app
 * from config, and runs migrations (the embedded default needs no separate `migrate` step).
 */
export async function createRuntime(config: Config, logger: Logger): Promise<Runtime> {
  const store = openSqliteStore(config.database.file);
  await store.migrate();
  const driver = new LocalDriver({
    root: join(config.dataDir, "storage"),
    baseUrl: config.baseUrl,
    signingSecret: config.signingSecret,
    buckets: config.buckets,
  });
  await driver.init();
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
      localDriver: driver,
      ready: async () => {
        await store.ping();
        await driver.ping();
      },
    },
    { logger },
  );
  return {
    app,
    store,
    driver,
    service,
    async close() {
      await app.close();
      await store.close();
    },
  };
}

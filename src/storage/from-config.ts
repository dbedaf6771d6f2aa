import { join } from "node:path";
import type { Config } from "../config/schema.js";
import type { StorageDriver } from "./driver.js";
import { LocalDriver } from "./local/local-driver.js";
import { S3Driver } from "./s3/s3-driver.js";

export interface Storage {
  driver: StorageDriver;
  /** Set when objects live on local disk: Stowage then serves `/storage/` itself. */
  local: LocalDriver | undefined;
  /** Set when objects live in S3: for start-up checks and the `storage` commands. */
  s3: S3Driver | undefined;
}

/**
 * Logical bucket (as policies name it) → the storage location holding it. On local disk every
 * logical bucket is a folder of its own; on S3 several share one real bucket (`public` and
 * `private` both live in the media bucket, `compliance` in its own unless named).
 */
export function locationOf(config: Pick<Config, "storage" | "buckets">, logical: string): string {
  const { storage } = config;
  if (storage.kind === "local") return logical;
  return config.buckets[logical]?.name ?? (logical === "compliance" ? storage.complianceBucket : storage.bucket);
}

/** The storage driver the configuration asks for. */
export function storageFromConfig(config: Config): Storage {
  const { storage } = config;
  if (storage.kind === "local") {
    const local = new LocalDriver({
      root: join(config.dataDir, "storage"),
      baseUrl: config.baseUrl,
      signingSecret: config.signingSecret,
      buckets: config.buckets,
    });
    return { driver: local, local, s3: undefined };
  }
  const buckets = Object.fromEntries(
    Object.entries(config.buckets).map(([logical, bucket]) => [
      logical,
      {
        name: locationOf(config, logical),
        public: bucket.public,
        publicBaseUrl: bucket.publicBaseUrl,
      },
    ]),
  );
  const s3 = new S3Driver({
    endpoint: storage.endpoint,
    publicEndpoint: storage.publicEndpoint,
    region: storage.region,
    forcePathStyle: storage.forcePathStyle,
    credentials: storage.credentials,
    buckets,
    postPolicy: storage.postPolicy,
    conditionalWrites: storage.conditionalWrites,
  });
  return { driver: s3, local: undefined, s3 };
}

import type { Env } from "../../src/config/load.js";
import { tempPostgres, type TestDatabase } from "./databases.js";
import { stowageS3Env, tempBucket } from "./s3.js";
import { startStowage, type TestServer } from "./server.js";

/** Two instances as production runs them: one PostgreSQL database, one S3 bucket (Ceph RGW), one Redis. */
export interface TwoInstances {
  a: TestServer;
  b: TestServer;
  database: TestDatabase;
  bucket: Awaited<ReturnType<typeof tempBucket>>;
  close(): Promise<void>;
}

/** Starts them on a fresh database and bucket; `env` adds to (or overrides) what they share. */
export async function startTwoInstances(bucketPrefix: string, env: Env = {}): Promise<TwoInstances> {
  const database = await tempPostgres();
  const bucket = await tempBucket(bucketPrefix);
  const shared = {
    ...database.env,
    ...stowageS3Env(bucket.name),
    REDIS_URL: process.env.STOWAGE_TEST_REDIS_URL ?? "redis://127.0.0.1:6379",
    ...env,
  };
  const a = await startStowage(shared);
  const b = await startStowage(shared);
  return {
    a,
    b,
    database,
    bucket,
    async close() {
      await a.close();
      await b.close();
      await database.drop();
      await bucket.drop();
    },
  };
}

/**
 * Calls again on a 503 (Retry-After), as a production client would: on an overloaded CI machine
 * a pool or store timeout must not look like a lost race. What the call decided stays exact.
 */
export async function retry503<R extends { status: number }>(call: () => Promise<R>): Promise<R> {
  let res = await call();
  for (let attempt = 0; attempt < 5 && res.status === 503; attempt++) {
    await new Promise((resolve) => setTimeout(resolve, 200));
    res = await call();
  }
  return res;
}

import { randomBytes } from "node:crypto";
import { CreateBucketCommand, DeleteBucketCommand, DeleteObjectsCommand, ListObjectsV2Command, S3Client } from "@aws-sdk/client-s3";
import { S3Driver, type S3DriverOptions } from "../../src/storage/s3/s3-driver.js";

/** The S3 server the suite (or the benchmarks) run against: Ceph RGW, started by `scripts/test.sh` or `npm run bench`. */
export function s3Env() {
  const endpoint = process.env.S3_TEST_ENDPOINT;
  const accessKeyId = process.env.S3_TEST_ACCESS_KEY;
  const secretAccessKey = process.env.S3_TEST_SECRET_KEY;
  if (!endpoint || !accessKeyId || !secretAccessKey) {
    // Fail, never skip: a suite that silently skips S3 would pass without testing it.
    throw new Error("S3_TEST_ENDPOINT/S3_TEST_ACCESS_KEY/S3_TEST_SECRET_KEY are not set: run `npm test` or `npm run bench`, which start the S3 test server (scripts/s3-test-server.sh).");
  }
  return { endpoint, accessKeyId, secretAccessKey, region: process.env.S3_TEST_REGION ?? "us-east-1" };
}

/** An SDK client set up as Stowage's driver sets up its own (path style, no default checksums). */
export function adminClient(): S3Client {
  const env = s3Env();
  return new S3Client({
    endpoint: env.endpoint,
    region: env.region,
    forcePathStyle: true,
    credentials: { accessKeyId: env.accessKeyId, secretAccessKey: env.secretAccessKey },
    requestChecksumCalculation: "WHEN_REQUIRED",
  });
}

export interface TempBucket {
  name: string;
  /** Deletes every object (RGW keeps them in memory: big benchmark runs empty it between rounds). */
  empty(): Promise<void>;
  /** Empties and removes the bucket. */
  drop(): Promise<void>;
}

/** A fresh bucket of its own for a test file or a benchmark. */
export async function tempBucket(prefix = "stowage-test"): Promise<TempBucket> {
  const name = `${prefix}-${randomBytes(6).toString("hex")}`;
  const client = adminClient();
  await client.send(new CreateBucketCommand({ Bucket: name }));
  const empty = async () => {
    for (;;) {
      const page = await client.send(new ListObjectsV2Command({ Bucket: name }));
      const keys = (page.Contents ?? []).flatMap((o) => (o.Key === undefined ? [] : [{ Key: o.Key }]));
      if (keys.length === 0) break;
      await client.send(new DeleteObjectsCommand({ Bucket: name, Delete: { Objects: keys } }));
    }
  };
  return {
    name,
    empty,
    async drop() {
      await empty();
      await client.send(new DeleteBucketCommand({ Bucket: name }));
      client.destroy();
    },
  };
}

export function s3Driver(buckets: S3DriverOptions["buckets"], overrides: Partial<S3DriverOptions> = {}): S3Driver {
  const env = s3Env();
  return new S3Driver({
    endpoint: env.endpoint,
    region: env.region,
    forcePathStyle: true,
    credentials: { accessKeyId: env.accessKeyId, secretAccessKey: env.secretAccessKey },
    buckets,
    postPolicy: true,
    conditionalWrites: true,
    ...overrides,
  });
}

/** Environment that points a Stowage instance at the test S3 server with the given buckets. */
export function stowageS3Env(bucket: string, complianceBucket = bucket): Record<string, string> {
  const env = s3Env();
  return {
    STOWAGE_STORAGE: "s3",
    STOWAGE_S3_ENDPOINT: env.endpoint,
    STOWAGE_S3_ACCESS_KEY_ID: env.accessKeyId,
    STOWAGE_S3_SECRET_ACCESS_KEY: env.secretAccessKey,
    STOWAGE_S3_REGION: env.region,
    STOWAGE_S3_BUCKET: bucket,
    STOWAGE_S3_COMPLIANCE_BUCKET: complianceBucket,
  };
}

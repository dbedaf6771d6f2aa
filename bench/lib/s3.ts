import { randomBytes } from "node:crypto";
import { CreateBucketCommand, DeleteBucketCommand, DeleteObjectsCommand, ListObjectsV2Command, S3Client } from "@aws-sdk/client-s3";

/**
 * The S3 server (Ceph RGW) the runner found or started: `S3_TEST_*`, as for the tests. The
 * runner starts a throw-away one (scripts/s3-test-server.sh) when none is set.
 */
export function s3Env() {
  const endpoint = process.env.S3_TEST_ENDPOINT;
  const accessKeyId = process.env.S3_TEST_ACCESS_KEY;
  const secretAccessKey = process.env.S3_TEST_SECRET_KEY;
  if (!endpoint || !accessKeyId || !secretAccessKey) {
    throw new Error("S3_TEST_ENDPOINT/S3_TEST_ACCESS_KEY/S3_TEST_SECRET_KEY are not set: run through `npm run bench`, which starts the S3 test server");
  }
  return { endpoint, accessKeyId, secretAccessKey, region: process.env.S3_TEST_REGION ?? "us-east-1" };
}

/** An SDK client set up as Stowage's driver sets up its own (path style, no default checksums). */
export function s3Client(): S3Client {
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
  /** Deletes every object (RGW keeps them in memory: big runs empty it between rounds). */
  empty(): Promise<void>;
  drop(): Promise<void>;
}

export async function tempBucket(prefix = "stowage-bench"): Promise<TempBucket> {
  const name = `${prefix}-${randomBytes(6).toString("hex")}`;
  const client = s3Client();
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

/** Environment pointing a Stowage instance at the S3 server, every logical bucket in `bucket`. */
export function stowageS3Env(bucket: string): Record<string, string> {
  const env = s3Env();
  return {
    STOWAGE_STORAGE: "s3",
    STOWAGE_S3_ENDPOINT: env.endpoint,
    STOWAGE_S3_ACCESS_KEY_ID: env.accessKeyId,
    STOWAGE_S3_SECRET_ACCESS_KEY: env.secretAccessKey,
    STOWAGE_S3_REGION: env.region,
    STOWAGE_S3_BUCKET: bucket,
    STOWAGE_S3_COMPLIANCE_BUCKET: bucket,
  };
}

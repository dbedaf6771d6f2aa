import { HeadBucketCommand } from "@aws-sdk/client-s3";
import type { S3Driver } from "./s3-driver.js";

export interface BucketCheck {
  bucket: string;
  ok: boolean;
  /** Why not, naming the setting to change. */
  problem?: string;
  /** The store could not be reached at all (as opposed to refusing us). */
  unreachable?: boolean;
}

/**
 * HEADs every configured bucket: wrong credentials and missing buckets are configuration
 * mistakes that should stop a start, with the setting that fixes them.
 */
export async function checkBuckets(driver: S3Driver): Promise<BucketCheck[]> {
  return Promise.all(
    driver.bucketNames().map(async (bucket): Promise<BucketCheck> => {
      try {
        await driver.client.send(new HeadBucketCommand({ Bucket: bucket }));
        return { bucket, ok: true };
      } catch (error) {
        const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
        if (status === 403 || status === 401) {
          return { bucket, ok: false, problem: `S3 refused the credentials for bucket '${bucket}': check STOWAGE_S3_ACCESS_KEY_ID / STOWAGE_S3_SECRET_ACCESS_KEY (or R2_* / MINIO_*)` };
        }
        if (status === 404) {
          return { bucket, ok: false, problem: `bucket '${bucket}' does not exist: create it with \`stowage storage init\` or fix STOWAGE_S3_BUCKET` };
        }
        const message = error instanceof Error ? error.message : String(error);
        return { bucket, ok: false, unreachable: true, problem: `cannot reach S3 for bucket '${bucket}' (STOWAGE_S3_ENDPOINT): ${message}` };
      }
    }),
  );
}

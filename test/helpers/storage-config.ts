import type { Config } from "../../src/config/schema.js";

/** An S3 storage config with the given media and compliance buckets, for pure tests (no I/O). */
export function s3Storage(bucket: string, complianceBucket: string): Config["storage"] {
  return {
    kind: "s3", via: "stowage", endpoint: "http://s3.test", publicEndpoint: undefined, region: "us-east-1", forcePathStyle: true,
    credentials: undefined, bucket, complianceBucket, postPolicy: true, conditionalWrites: true,
  };
}

/** The benchmarks use the test suite's S3 helpers: the same server, buckets and settings. */
export { adminClient as s3Client, s3Env, stowageS3Env, type TempBucket } from "../../test/helpers/s3.js";
import { tempBucket as testBucket } from "../../test/helpers/s3.js";

export const tempBucket = (prefix = "stowage-bench") => testBucket(prefix);

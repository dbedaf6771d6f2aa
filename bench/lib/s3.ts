import { execFileSync } from "node:child_process";
import { join } from "node:path";
/** The benchmarks use the test suite's S3 helpers: the same server, buckets and settings. */
export { adminClient as s3Client, s3Env, stowageS3Env, type TempBucket } from "../../test/helpers/s3.js";
import { tempBucket as testBucket } from "../../test/helpers/s3.js";

export const tempBucket = (prefix = "stowage-bench") => testBucket(prefix);

/**
 * Frees the data of deleted objects in the throw-away RGW now. Its memstore holds 4 GiB, and the
 * tails of objects over 4 MiB wait for RGW's garbage collector (2 h by default) after a delete,
 * so emptying a bucket of 100 MiB uploads frees nothing in time: the store fills up, and then
 * every write hangs. Does nothing for an S3 server that scripts/s3-test-server.sh did not start.
 */
export function collectGarbage(): void {
  const dir = process.env.S3_TEST_DIR;
  if (dir === undefined || dir === "") return;
  execFileSync("radosgw-admin", ["-c", join(dir, "ceph.conf"), "gc", "process", "--include-all"], { stdio: "ignore" });
}

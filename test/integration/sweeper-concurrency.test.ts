import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { ListObjectsV2Command } from "@aws-sdk/client-s3";
import { mapLimit } from "../../src/sweeper/objects.js";
import { tempPostgres, type TestDatabase } from "../helpers/databases.js";
import { PDF } from "../helpers/fixtures.js";
import { presignAndPut } from "../helpers/flow.js";
import { adminClient, stowageS3Env, tempBucket } from "../helpers/s3.js";
import { startStowage, type TestServer } from "../helpers/server.js";
import { HOUR, later, runSweep, statusOf, sweepConfigFile } from "../helpers/sweep.js";

const UPLOADS = 300;

describe("two sweepers at once (two instances on one PostgreSQL and one S3 bucket)", () => {
  let database: TestDatabase;
  let bucket: Awaited<ReturnType<typeof tempBucket>>;
  let a: TestServer;
  let b: TestServer;
  before(async () => {
    [database, bucket] = await Promise.all([tempPostgres(), tempBucket("stowage-sweep-race")]);
    const env = { ...database.env, ...stowageS3Env(bucket.name), STOWAGE_CONFIG_FILE: sweepConfigFile() };
    a = await startStowage(env);
    b = await startStowage(env);
  });
  after(async () => {
    await Promise.all([a.close(), b.close()]);
    await Promise.all([database.drop(), bucket.drop()]);
  });

  it(`handle each of ${UPLOADS} abandoned uploads exactly once`, async () => {
    const uploads = await mapLimit(Array.from({ length: UPLOADS }, (_, i) => i), 20, (i) =>
      presignAndPut(i % 2 === 0 ? a : b, `racer${i % 7}`, PDF, { contentType: "application/pdf" }));

    // Small batches, so the two runs interleave many times over the same rows.
    const now = later(2 * HOUR);
    const [first, second] = await Promise.all([
      runSweep(a, { now, jobs: ["abandoned"], batchSize: 20 }),
      runSweep(b, { now, jobs: ["abandoned"], batchSize: 20 }),
    ]);
    const countOf = (run: typeof first) => run.report.jobs.abandoned.counts.expired ?? 0;
    process.stderr.write(`# expired by sweeper A: ${countOf(first)}, by sweeper B: ${countOf(second)}\n`);
    assert.equal(countOf(first) + countOf(second), UPLOADS);
    for (const run of [first, second]) {
      assert.equal(run.report.jobs.abandoned.errors, 0);
      assert.equal(run.report.jobs.abandoned.failure, undefined);
    }
    const handled = [...first.events, ...second.events].map((e) => e.uploadId);
    assert.equal(new Set(handled).size, UPLOADS, "no upload handled twice");
    assert.deepEqual(new Set(handled), new Set(uploads.map((u) => u.id)));
    assert.equal(first.report.jobs.abandoned.bytes + second.report.jobs.abandoned.bytes, UPLOADS * PDF.length);

    const statuses = await mapLimit([...uploads.entries()], 20, async ([i, u]) => (await statusOf(a, `racer${i % 7}`, u.id)).status);
    assert.deepEqual(new Set(statuses), new Set(["expired"]));
    const left = await adminClient().send(new ListObjectsV2Command({ Bucket: bucket.name }));
    assert.equal(left.KeyCount ?? 0, 0, "every object is gone");
  });
});

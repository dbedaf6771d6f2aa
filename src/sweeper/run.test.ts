import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { ObjectInfo, StorageDriver } from "../storage/driver.js";
import type { SweeperStore } from "../store/sweeper-store.js";
import { sweep } from "./run.js";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A bucket whose listing takes `ms` and finds nothing: the orphans job then touches no store. */
function slowListing(ms: number): StorageDriver {
  return {
    async* list(): AsyncIterable<ObjectInfo> {
      await sleep(ms);
      yield* [];
    },
  } as unknown as StorageDriver;
}

describe("sweep's report", () => {
  it("times each job apart: the slow one carries its time, a job that did not run 0", async () => {
    const report = await sweep({
      store: {} as SweeperStore, driver: slowListing(60), policies: new Map(), abandonedGraceSeconds: 0, orphanGraceSeconds: 0,
      targets: [{ buckets: ["media"], prefixes: ["a/", "b/"] }], jobs: ["orphans"],
    });
    assert.equal(report.jobs.orphans.failure, undefined);
    // Two prefixes, each listing 60 ms.
    assert.ok(report.jobs.orphans.durationMs >= 115, `orphans took ${report.jobs.orphans.durationMs} ms`);
    assert.ok(report.jobs.orphans.durationMs <= report.durationMs + 0.5, JSON.stringify(report));
    for (const [job, r] of Object.entries(report.jobs)) if (job !== "orphans") assert.equal(r.durationMs, 0, job);
  });

  it("times a job that fails up to its failure", async () => {
    const driver = {
      async* list(): AsyncIterable<ObjectInfo> {
        await sleep(40);
        yield* [];
        throw new Error("store unreachable");
      },
    } as unknown as StorageDriver;
    const report = await sweep({
      store: {} as SweeperStore, driver, policies: new Map(), abandonedGraceSeconds: 0, orphanGraceSeconds: 0,
      targets: [{ buckets: ["media"], prefixes: [""] }], jobs: ["orphans"],
    });
    assert.equal(report.jobs.orphans.failure, "store unreachable");
    assert.ok(report.jobs.orphans.durationMs >= 35, `orphans took ${report.jobs.orphans.durationMs} ms`);
  });
});

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { TickBatch } from "./tick-batch.js";

/** A batch whose groups are answered only when the test releases them, in order. */
function heldBatch(options: { max: number; maxInFlight?: number }) {
  const calls: number[][] = [];
  const releases: (() => void)[] = [];
  const batch = new TickBatch<number, number>(async (items) => {
    calls.push([...items]);
    await new Promise<void>((resolve) => releases.push(resolve));
    return [...items];
  }, options);
  return { calls, releases, batch };
}

describe("TickBatch", () => {
  it("writes the items of one turn together, in groups of at most `max`, answering each caller", async () => {
    const calls: number[][] = [];
    const batch = new TickBatch<number, string>(async (items) => {
      calls.push([...items]);
      return items.map((n) => `row ${n}`);
    }, { max: 3 });
    const answers = await Promise.all([1, 2, 3, 4, 5].map((n) => batch.add(n)));
    assert.deepEqual(answers, ["row 1", "row 2", "row 3", "row 4", "row 5"]);
    assert.deepEqual(calls, [[1, 2, 3], [4, 5]]);
    assert.equal(await batch.add(6), "row 6");
    assert.deepEqual(calls.at(-1), [6]);
  });

  it("when a group fails with an error of one item, retries each alone: only the bad one's caller sees it", async () => {
    const calls: number[][] = [];
    const batch = new TickBatch<number, number>(async (items) => {
      calls.push([...items]);
      if (items.includes(2)) throw new Error("constraint failed");
      return [...items];
    }, { max: 10, retryAlone: (error) => (error as Error).message === "constraint failed" });
    const settled = await Promise.allSettled([1, 2, 3].map((n) => batch.add(n)));
    assert.deepEqual(settled.map((s) => s.status), ["fulfilled", "rejected", "fulfilled"]);
    assert.equal((settled[1] as PromiseRejectedResult).reason.message, "constraint failed");
    assert.deepEqual(calls, [[1, 2, 3], [1], [2], [3]]);
  });

  it("fails the whole group, without retrying item by item, when the database itself fails", async () => {
    let calls = 0;
    const batch = new TickBatch<number, number>(async () => {
      calls++;
      throw Object.assign(new Error("database is locked"), { code: "SQLITE_BUSY" });
    }, { max: 10, retryAlone: (error) => (error as { code?: string }).code === "SQLITE_CONSTRAINT" });
    const settled = await Promise.allSettled([1, 2, 3].map((n) => batch.add(n)));
    assert.deepEqual(settled.map((s) => s.status), ["rejected", "rejected", "rejected"]);
    assert.equal(calls, 1);
  });

  it("refuses an answer with the wrong number of results, and never runs those writes again", async () => {
    let calls = 0;
    const batch = new TickBatch<number, number>(async (items) => {
      calls++;
      return items.slice(1);
    }, { max: 10, retryAlone: () => true });
    const settled = await Promise.allSettled([1, 2].map((n) => batch.add(n)));
    assert.ok(settled.every((s) => s.status === "rejected"));
    assert.equal(calls, 1);
  });

  it("drain() sends what is queued at once and waits for the answers", async () => {
    const done: number[] = [];
    const batch = new TickBatch<number, number>(async (items) => {
      await new Promise((resolve) => setTimeout(resolve, 20));
      done.push(...items);
      return [...items];
    }, { max: 10 });
    const answers = [batch.add(1), batch.add(2)];
    await batch.drain();
    assert.deepEqual(done, [1, 2]);
    assert.deepEqual(await Promise.all(answers), [1, 2]);
    assert.throws(() => new TickBatch(async () => [], { max: 0 }), RangeError);
  });

  it("with maxInFlight, holds later calls while a group is out and sends them as one when it is answered", async () => {
    const { calls, releases, batch } = heldBatch({ max: 100, maxInFlight: 1 });
    const first = batch.add(1);
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(calls, [[1]], "an idle batch sends at the next turn");
    // Three more turns' worth of calls while the first group is out: none is sent yet.
    const later: Promise<number>[] = [];
    for (const n of [2, 3, 4]) {
      later.push(batch.add(n));
      await new Promise((resolve) => setImmediate(resolve));
    }
    assert.deepEqual(calls, [[1]]);
    releases.shift()?.();
    assert.equal(await first, 1);
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(calls, [[1], [2, 3, 4]], "they go out together once the first is answered");
    releases.shift()?.();
    assert.deepEqual(await Promise.all(later), [2, 3, 4]);
    assert.throws(() => new TickBatch(async () => [], { max: 1, maxInFlight: 0 }), RangeError);
  });

  it("without maxInFlight, sends each turn's calls at once, whatever is out", async () => {
    const { calls, releases, batch } = heldBatch({ max: 100 });
    const answers = [batch.add(1)];
    await new Promise((resolve) => setImmediate(resolve));
    answers.push(batch.add(2));
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(calls, [[1], [2]]);
    for (const release of releases.splice(0)) release();
    assert.deepEqual(await Promise.all(answers), [1, 2]);
  });
});

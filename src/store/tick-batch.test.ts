import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { TickBatch } from "./tick-batch.js";

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

  it("when a group fails, retries each item alone: only the bad one's caller sees the error", async () => {
    const calls: number[][] = [];
    const batch = new TickBatch<number, number>(async (items) => {
      calls.push([...items]);
      if (items.includes(2)) throw new Error("constraint failed");
      return [...items];
    }, { max: 10 });
    const settled = await Promise.allSettled([1, 2, 3].map((n) => batch.add(n)));
    assert.deepEqual(settled.map((s) => s.status), ["fulfilled", "rejected", "fulfilled"]);
    assert.equal((settled[1] as PromiseRejectedResult).reason.message, "constraint failed");
    assert.deepEqual(calls, [[1, 2, 3], [1], [2], [3]]);
  });

  it("refuses an answer with the wrong number of results instead of mismatching callers", async () => {
    const batch = new TickBatch<number, number>(async (items) => items.slice(1), { max: 10 });
    const settled = await Promise.allSettled([1, 2].map((n) => batch.add(n)));
    assert.ok(settled.every((s) => s.status === "rejected"));
  });
});

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { MAX_OBJECT_BYTES, MAX_PARTS, MIN_PART_BYTES, partLength, planParts } from "./part-plan.js";

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
const TiB = 1024 * GiB;

/** Sizes around every boundary that matters, and a deterministic spread in between. */
function sizes(): number[] {
  const bases = [
    1, MiB, 5 * MiB, 100 * MiB, GiB, 10 * GiB,
    // 10 000 parts of 5 MiB: the largest object that still uses the minimum part size.
    MAX_PARTS * MIN_PART_BYTES,
    MAX_PARTS * 6 * MiB, MAX_PARTS * 7 * MiB, MAX_PARTS * 525 * MiB,
    TiB, 5 * TiB - MiB, MAX_OBJECT_BYTES,
  ];
  const out = new Set<number>();
  for (const base of bases) {
    for (const delta of [-1, 0, 1]) if (base + delta >= 1 && base + delta <= MAX_OBJECT_BYTES) out.add(base + delta);
  }
  // Exact multiples of 5 MiB, and one byte more.
  for (let k = 1; k <= 50; k += 7) {
    out.add(k * MIN_PART_BYTES);
    out.add(k * MIN_PART_BYTES + 1);
  }
  // A linear congruential sweep over 1 B … 5 TiB (no Math.random: failures must reproduce).
  let x = 12345;
  for (let i = 0; i < 500; i += 1) {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    const scale = [MiB, 100 * MiB, GiB, 100 * GiB, TiB][i % 5] ?? MiB;
    out.add(1 + Math.floor((x / 2 ** 31) * Math.min(scale * 5, MAX_OBJECT_BYTES - 1)));
  }
  return [...out].sort((a, b) => a - b);
}

describe("planParts", () => {
  it("uses the 5 MiB minimum part size for small and medium objects", () => {
    assert.deepEqual(planParts(1), { partSize: MIN_PART_BYTES, partCount: 1 });
    assert.deepEqual(planParts(5 * MiB), { partSize: MIN_PART_BYTES, partCount: 1 });
    assert.deepEqual(planParts(5 * MiB + 1), { partSize: MIN_PART_BYTES, partCount: 2 });
    assert.deepEqual(planParts(100 * MiB), { partSize: MIN_PART_BYTES, partCount: 20 });
    assert.deepEqual(planParts(MAX_PARTS * MIN_PART_BYTES), { partSize: MIN_PART_BYTES, partCount: MAX_PARTS });
  });

  it("grows the part size by whole MiB once 10 000 parts of 5 MiB are not enough", () => {
    assert.deepEqual(planParts(MAX_PARTS * MIN_PART_BYTES + 1), { partSize: 6 * MiB, partCount: 8334 });
  });

  it("fits a 5 TiB object in at most 10 000 parts", () => {
    const plan = planParts(MAX_OBJECT_BYTES);
    assert.equal(MAX_OBJECT_BYTES, 5 * TiB);
    assert.ok(plan.partCount <= MAX_PARTS, `${plan.partCount} parts`);
    assert.ok(plan.partSize * plan.partCount >= MAX_OBJECT_BYTES);
    assert.deepEqual(plan, { partSize: 525 * MiB, partCount: 9987 });
  });

  it("keeps every plan within S3's limits, in whole MiB, with the fewest parts for its part size", () => {
    for (const size of sizes()) {
      const { partSize, partCount } = planParts(size);
      assert.ok(partSize >= MIN_PART_BYTES, `size ${size}: part size ${partSize}`);
      assert.equal(partSize % MiB, 0, `size ${size}: part size ${partSize} is not whole MiB`);
      assert.ok(Number.isInteger(partCount) && partCount >= 1 && partCount <= MAX_PARTS, `size ${size}: ${partCount} parts`);
      assert.ok(partSize * partCount >= size, `size ${size}: ${partCount} × ${partSize} too small`);
      assert.ok(partSize * (partCount - 1) < size, `size ${size}: one part too many`);
      // No smaller whole-MiB part size ≥ 5 MiB would have fitted in 10 000 parts.
      if (partSize > MIN_PART_BYTES) assert.ok((partSize - MiB) * MAX_PARTS < size, `size ${size}: part size ${partSize} larger than needed`);
    }
  });
});

describe("partLength", () => {
  it("gives every part but the last the part size, and the last 1 … partSize bytes, summing to the size", () => {
    for (const size of sizes()) {
      const plan = planParts(size);
      const last = partLength(size, plan, plan.partCount);
      assert.ok(last >= 1 && last <= plan.partSize, `size ${size}: last part ${last}`);
      // Every part before the last: check the first few, the last few and a spread between (5 TiB has ~10 000 parts).
      const numbers = new Set<number>();
      for (let n = 1; n < plan.partCount; n += Math.max(1, Math.floor(plan.partCount / 50))) numbers.add(n);
      for (let n = Math.max(1, plan.partCount - 3); n < plan.partCount; n += 1) numbers.add(n);
      for (const n of numbers) assert.equal(partLength(size, plan, n), plan.partSize, `size ${size}: part ${n}`);
      assert.equal(plan.partSize * (plan.partCount - 1) + last, size, `size ${size}: parts do not add up`);
    }
  });

  it("sums to the size when adding up every part, for exact multiples and one byte more", () => {
    for (const size of [5 * MiB, 5 * MiB + 1, 20 * MIN_PART_BYTES, 20 * MIN_PART_BYTES + 1, 123_456_789, GiB, GiB + 1]) {
      const plan = planParts(size);
      let sum = 0;
      for (let n = 1; n <= plan.partCount; n += 1) {
        const length = partLength(size, plan, n);
        if (n < plan.partCount) assert.equal(length, plan.partSize, `size ${size}: part ${n}`);
        sum += length;
      }
      assert.equal(sum, size);
    }
  });

  it("makes the last part a full part when the size is an exact multiple", () => {
    const plan = planParts(20 * MIN_PART_BYTES);
    assert.equal(plan.partCount, 20);
    assert.equal(partLength(20 * MIN_PART_BYTES, plan, 20), MIN_PART_BYTES);
    const plus = planParts(20 * MIN_PART_BYTES + 1);
    assert.equal(plus.partCount, 21);
    assert.equal(partLength(20 * MIN_PART_BYTES + 1, plus, 21), 1);
  });

  it("sums to the size over all ~10 000 parts of a 5 TiB object", () => {
    const plan = planParts(MAX_OBJECT_BYTES);
    let sum = 0;
    for (let n = 1; n <= plan.partCount; n += 1) sum += partLength(MAX_OBJECT_BYTES, plan, n);
    assert.equal(sum, MAX_OBJECT_BYTES);
  });
});

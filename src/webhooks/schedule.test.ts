import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { JITTER, MAX_ATTEMPTS, MAX_RETRY_DELAY_MS, nextAttemptAt, RETRY_DELAYS_MS } from "./schedule.js";

const NOW = new Date("2026-12-01T00:00:00Z");
const HOUR = 3_600_000;
const waitAfter = (attempt: number, random: () => number, retryAfterMs?: number): number => {
  const next = nextAttemptAt(attempt, NOW, { random, retryAfterMs });
  assert.ok(next !== undefined, `attempt ${attempt} should have a next one`);
  return next.getTime() - NOW.getTime();
};
const LOW = () => 0;
const MID = () => 0.5;
const HIGH = () => 1 - Number.EPSILON;

/** Every wait of a message that fails every time, with the given dice. */
function waits(random: () => number): number[] {
  const all: number[] = [];
  for (let attempt = 1; attempt < MAX_ATTEMPTS; attempt++) all.push(waitAfter(attempt, random));
  return all;
}

describe("nextAttemptAt", () => {
  it("allows about ten attempts and dead-letters after the last", () => {
    assert.equal(MAX_ATTEMPTS, 10);
    assert.ok(nextAttemptAt(MAX_ATTEMPTS - 1, NOW) !== undefined);
    assert.equal(nextAttemptAt(MAX_ATTEMPTS, NOW), undefined);
    assert.equal(nextAttemptAt(MAX_ATTEMPTS + 5, NOW), undefined);
    assert.equal(nextAttemptAt(MAX_ATTEMPTS, NOW, { retryAfterMs: 1000 }), undefined, "Retry-After does not revive a dead message");
  });

  it("starts within seconds and waits longer after each failure, even with the jitter against it", () => {
    assert.equal(waitAfter(1, MID), 5000);
    const up = waits(HIGH);
    const down = waits(LOW);
    for (let i = 1; i < up.length; i++) {
      assert.ok((down[i] ?? 0) > (up[i - 1] ?? Infinity), `wait ${i + 1} at its shortest exceeds wait ${i} at its longest`);
    }
  });

  it("spans 20 to 30 hours in all, whatever the jitter", () => {
    const sum = (list: number[]) => list.reduce((a, b) => a + b, 0);
    assert.equal(sum(waits(MID)), 25 * HOUR);
    for (const random of [LOW, MID, HIGH, Math.random]) {
      const total = sum(waits(random));
      assert.ok(total >= 20 * HOUR && total <= 30 * HOUR, `total ${total / HOUR} h`);
    }
  });

  it("keeps each wait within ±20 % of its step", () => {
    RETRY_DELAYS_MS.forEach((step, index) => {
      assert.equal(waitAfter(index + 1, LOW), Math.round(step * (1 - JITTER)));
      assert.ok(waitAfter(index + 1, HIGH) <= Math.round(step * (1 + JITTER)));
      assert.ok(waitAfter(index + 1, HIGH) > step * (1 + JITTER) - 1);
      for (let i = 0; i < 50; i++) {
        const wait = waitAfter(index + 1, Math.random);
        assert.ok(wait >= step * (1 - JITTER) && wait <= step * (1 + JITTER), `${wait} for step ${step}`);
      }
    });
  });

  it("never comes earlier than Retry-After asks, up to the longest step", () => {
    assert.equal(waitAfter(1, MID, 120_000), 120_000, "a longer pause than the schedule's is honoured");
    assert.equal(waitAfter(5, MID, 1000), RETRY_DELAYS_MS[4], "a shorter one leaves the schedule as it is");
    assert.equal(waitAfter(1, HIGH, 7 * 86_400_000), MAX_RETRY_DELAY_MS, "a week is cut to the longest step");
    assert.equal(waitAfter(1, MID, -5), 5000);
  });

  it("refuses attempt numbers that are not 1, 2, 3 …", () => {
    for (const attempt of [0, -1, 1.5, Number.NaN]) assert.throws(() => nextAttemptAt(attempt, NOW), RangeError);
  });
});

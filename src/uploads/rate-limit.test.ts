import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { MemoryRateLimiter } from "./rate-limit.js";

/** A clock the test moves by hand: `at(ms)` is that many milliseconds after the first hit. */
function clock() {
  const start = Date.parse("2026-12-01T10:00:00Z");
  let now = start;
  return { now: () => now, at: (ms: number) => void (now = start + ms) };
}

describe("MemoryRateLimiter", () => {
  it("allows `limit` hits in a window and refuses every one beyond, answering the seconds left", async () => {
    const time = clock();
    const limiter = new MemoryRateLimiter(time.now);
    const decisions = [];
    for (const ms of [0, 1_000, 2_000]) {
      time.at(ms);
      decisions.push(await limiter.hit("presign:user:ann", 3, 60));
    }
    assert.deepEqual(decisions, [
      { allowed: true, retryAfterSeconds: 60 },
      { allowed: true, retryAfterSeconds: 59 },
      { allowed: true, retryAfterSeconds: 58 },
    ]);
    time.at(10_500);
    assert.deepEqual(await limiter.hit("presign:user:ann", 3, 60), { allowed: false, retryAfterSeconds: 50 }, "49.5 s left, rounded up");
    time.at(59_001);
    assert.deepEqual(await limiter.hit("presign:user:ann", 3, 60), { allowed: false, retryAfterSeconds: 1 }, "refused hits do not move the window's end");
  });

  it("starts a fresh window at the old one's end, from that hit, not before", async () => {
    const time = clock();
    const limiter = new MemoryRateLimiter(time.now);
    for (let i = 0; i < 3; i++) await limiter.hit("k", 2, 60);
    time.at(59_999);
    assert.equal((await limiter.hit("k", 2, 60)).allowed, false, "one millisecond before the end");
    time.at(60_000);
    assert.deepEqual(await limiter.hit("k", 2, 60), { allowed: true, retryAfterSeconds: 60 });
    time.at(90_000);
    assert.deepEqual(await limiter.hit("k", 2, 60), { allowed: true, retryAfterSeconds: 30 }, "the new window began at 60 s");
    assert.deepEqual(await limiter.hit("k", 2, 60), { allowed: false, retryAfterSeconds: 30 });
  });

  it("counts each key apart", async () => {
    const time = clock();
    const limiter = new MemoryRateLimiter(time.now);
    await limiter.hit("presign:user:ann", 1, 60);
    assert.equal((await limiter.hit("presign:user:ann", 1, 60)).allowed, false);
    assert.equal((await limiter.hit("presign:user:ben", 1, 60)).allowed, true);
    assert.equal((await limiter.hit("presign:link:ann", 1, 60)).allowed, true);
  });
});

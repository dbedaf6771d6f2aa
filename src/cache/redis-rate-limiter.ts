import type { Redis } from "ioredis";
import type { RateDecision, RateLimiter } from "../uploads/rate-limit.js";

/**
 * Fixed-window counters in Redis, so a limit holds across every instance behind the load
 * balancer. `INCR` then `PEXPIRE … NX` in one MULTI: the window starts with its first hit.
 * While Redis is unreachable each instance limits on its own (the fallback), rather than
 * either refusing everyone or limiting no one.
 */
export class RedisRateLimiter implements RateLimiter {
  readonly #redis: Redis;
  readonly #fallback: RateLimiter;
  readonly #onError: (error: unknown) => void;

  constructor(redis: Redis, fallback: RateLimiter, options: { onError?: (error: unknown) => void } = {}) {
    this.#redis = redis;
    this.#fallback = fallback;
    this.#onError = options.onError ?? (() => undefined);
  }

  async hit(key: string, limit: number, windowSeconds: number): Promise<RateDecision> {
    const redisKey = `stowage:rate:${key}`;
    try {
      const results = await this.#redis.multi().incr(redisKey).pexpire(redisKey, windowSeconds * 1000, "NX").pttl(redisKey).exec();
      const count = Number(results?.[0]?.[1]);
      const ttl = Number(results?.[2]?.[1]);
      if (!Number.isFinite(count)) throw new Error("unexpected MULTI answer");
      return { allowed: count <= limit, retryAfterSeconds: Math.max(1, Math.ceil((ttl > 0 ? ttl : windowSeconds * 1000) / 1000)) };
    } catch (error) {
      this.#onError(error);
      return this.#fallback.hit(key, limit, windowSeconds);
    }
  }
}

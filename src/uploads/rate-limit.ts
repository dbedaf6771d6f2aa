import { LRUCache } from "lru-cache";

export interface RateDecision {
  allowed: boolean;
  /** Seconds until the window resets (for `Retry-After`). */
  retryAfterSeconds: number;
}

/** Counts requests per key in fixed windows; shared across instances when backed by Redis. */
export interface RateLimiter {
  hit(key: string, limit: number, windowSeconds: number): Promise<RateDecision>;
}

/** In-process fixed windows: the default, and the fallback while Redis is down. */
export class MemoryRateLimiter implements RateLimiter {
  readonly #windows = new LRUCache<string, { count: number; resetAt: number }>({ max: 100_000 });
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  async hit(key: string, limit: number, windowSeconds: number): Promise<RateDecision> {
    const now = this.#now();
    let window = this.#windows.get(key);
    if (window === undefined || window.resetAt <= now) {
      window = { count: 0, resetAt: now + windowSeconds * 1000 };
      this.#windows.set(key, window);
    }
    window.count += 1;
    return { allowed: window.count <= limit, retryAfterSeconds: Math.max(1, Math.ceil((window.resetAt - now) / 1000)) };
  }
}

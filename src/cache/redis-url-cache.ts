import type { Redis } from "ioredis";
import type { CachedUrl, UrlCache } from "../uploads/download-urls.js";

/**
 * Signed download URLs in Redis, shared by every instance. While Redis is unreachable the
 * in-process fallback serves (each instance then signs its own URLs): slower, never down.
 */
export class RedisUrlCache implements UrlCache {
  readonly #redis: Redis;
  readonly #fallback: UrlCache;
  readonly #prefix: string;
  readonly #onError: (error: unknown) => void;

  constructor(redis: Redis, fallback: UrlCache, options: { prefix?: string; onError?: (error: unknown) => void } = {}) {
    this.#redis = redis;
    this.#fallback = fallback;
    this.#prefix = options.prefix ?? "stowage:url:";
    this.#onError = options.onError ?? (() => undefined);
  }

  async get(key: string): Promise<CachedUrl | undefined> {
    try {
      const raw = await this.#redis.get(this.#prefix + key);
      return raw === null ? undefined : (JSON.parse(raw) as CachedUrl);
    } catch (error) {
      this.#onError(error);
      return this.#fallback.get(key);
    }
  }

  async set(key: string, value: CachedUrl, ttlMs: number): Promise<void> {
    try {
      await this.#redis.set(this.#prefix + key, JSON.stringify(value), "PX", Math.max(1, Math.floor(ttlMs)));
    } catch (error) {
      this.#onError(error);
      await this.#fallback.set(key, value, ttlMs);
    }
  }
}

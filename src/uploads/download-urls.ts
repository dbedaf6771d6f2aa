import { LRUCache } from "lru-cache";
import type { ObjectRef, StorageDriver } from "../storage/driver.js";

export interface CachedUrl {
  url: string;
  /** Epoch milliseconds. */
  expiresAt: number;
}

/** Where signed download URLs are kept between requests: in process, or shared (Redis). */
export interface UrlCache {
  get(key: string): Promise<CachedUrl | undefined>;
  set(key: string, value: CachedUrl, ttlMs: number): Promise<void>;
}

/** A bounded in-process LRU: the default, and the fallback when a shared cache is down. */
export class MemoryUrlCache implements UrlCache {
  readonly #lru: LRUCache<string, CachedUrl>;

  constructor(max = 10_000) {
    this.#lru = new LRUCache({ max });
  }

  async get(key: string): Promise<CachedUrl | undefined> {
    return this.#lru.get(key);
  }

  async set(key: string, value: CachedUrl, ttlMs: number): Promise<void> {
    this.#lru.set(key, value, { ttl: ttlMs });
  }
}

export interface DownloadUrlOptions {
  ttlSeconds: number;
  /** A handed-out URL always has at least this long to live. Default: a fifth of the TTL, at most 60 s. */
  marginSeconds?: number;
  now?: () => number;
}

/**
 * Signed download URLs, reused while they have time left: keyed by bucket, key, lifetime and
 * disposition, kept until `expiry − margin`, so every URL handed out still lives at least the
 * margin. Saves the signing work and lets browsers and CDNs cache the same URL.
 */
export class DownloadUrls {
  readonly #driver: StorageDriver;
  readonly #cache: UrlCache;
  readonly #ttl: number;
  readonly #margin: number;
  readonly #now: () => number;

  constructor(driver: StorageDriver, cache: UrlCache, options: DownloadUrlOptions) {
    this.#driver = driver;
    this.#cache = cache;
    this.#ttl = options.ttlSeconds;
    this.#margin = options.marginSeconds ?? Math.min(60, Math.floor(options.ttlSeconds / 5));
    this.#now = options.now ?? Date.now;
  }

  async get(ref: ObjectRef, disposition: string): Promise<CachedUrl> {
    const key = JSON.stringify([ref.bucket, ref.key, this.#ttl, disposition]);
    const cached = await this.#cache.get(key);
    if (cached !== undefined && cached.expiresAt - this.#now() > this.#margin * 1000) return cached;
    const signed = await this.#driver.presignGet({ ...ref, expiresInSeconds: this.#ttl, contentDisposition: disposition });
    const fresh = { url: signed.url, expiresAt: signed.expiresAt.getTime() };
    const keep = fresh.expiresAt - this.#now() - this.#margin * 1000;
    if (keep > 0) await this.#cache.set(key, fresh, keep);
    return fresh;
  }
}

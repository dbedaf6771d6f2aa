/**
 * Signed download URLs with and without reuse. Stowage has no setting that turns the reuse off,
 * so this measures in process, on the same objects: `driver.presignGet` (what every download
 * would cost without the cache) against `DownloadUrls.get` over a warm cache — the in-process
 * LRU (`MemoryUrlCache`, the default) and, with Redis reachable, `RedisUrlCache` (what
 * `REDIS_URL` selects). For the S3 driver (SigV4) and the local driver (HMAC).
 *
 *   npm run bench -- download-url
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connectRedis } from "../src/cache/redis.js";
import { RedisUrlCache } from "../src/cache/redis-url-cache.js";
import type { StorageDriver } from "../src/storage/driver.js";
import { LocalDriver } from "../src/storage/local/local-driver.js";
import { S3Driver } from "../src/storage/s3/s3-driver.js";
import { attachmentDisposition } from "../src/uploads/disposition.js";
import { DownloadUrls, MemoryUrlCache, type UrlCache } from "../src/uploads/download-urls.js";
import { main, output, progress } from "./lib/report.js";
import { RUNS, SECONDS, SMOKE } from "./lib/settings.js";
import { median } from "./lib/stats.js";

const NAME = "download-url";
const TTL = 300;
/** Distinct objects cycled through: a realistic working set that fits the default LRU (10 000). */
const OBJECTS = 2000;
const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";

const refs = Array.from({ length: OBJECTS }, (_, i) => ({
  ref: { bucket: "private", key: `documents/user${i % 97}/0193a8f0-${String(i).padStart(4, "0")}-7000-8000-000000000000.pdf` },
  disposition: attachmentDisposition(`Quarterly report ${i} (final).pdf`),
}));

/** µs per call, sequential awaited calls cycling through the objects for `ms`. */
async function perCall(fn: (i: number) => Promise<unknown>, ms: number): Promise<number> {
  let count = 0;
  const start = performance.now();
  while (performance.now() - start < ms) {
    for (let j = 0; j < 100; j++) await fn(count++ % OBJECTS);
  }
  return ((performance.now() - start) * 1000) / count;
}

async function redisCache(): Promise<{ cache: UrlCache; close: () => Promise<void> } | { reason: string }> {
  const redis = connectRedis(REDIS_URL);
  const prefix = `stowage-bench:${randomBytes(4).toString("hex")}:`;
  try {
    // The client refuses commands until connected (no offline queue): wait for it, briefly.
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("no connection within 3 s")), 3000);
      redis.once("ready", () => {
        clearTimeout(timer);
        resolve();
      });
    });
    await redis.ping();
  } catch (error) {
    redis.disconnect();
    return { reason: `Redis at ${REDIS_URL} is not reachable (${(error as Error).message})` };
  }
  return {
    cache: new RedisUrlCache(redis, new MemoryUrlCache(), { prefix, onError: (e) => progress(NAME, `redis error: ${String(e)}`) }),
    async close() {
      let cursor = "0";
      do {
        const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 1000);
        if (keys.length > 0) await redis.del(...keys);
        cursor = next;
      } while (cursor !== "0");
      redis.disconnect();
    },
  };
}

async function run() {
  const out = output(NAME);
  const root = mkdtempSync(join(tmpdir(), "download-url-bench-"));
  const drivers: [string, StorageDriver][] = [
    [
      "S3 (SigV4)",
      new S3Driver({
        endpoint: "http://127.0.0.1:9000", region: "us-east-1", forcePathStyle: true, postPolicy: true, conditionalWrites: true,
        credentials: { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY" },
        buckets: { private: { name: "media", public: false } },
      }),
    ],
    ["local (HMAC)", new LocalDriver({ root, baseUrl: "http://127.0.0.1:8080", signingSecret: "bench-signing-secret-that-is-long-enough-0123", buckets: { private: { public: false } } })],
  ];
  const redis = await redisCache();
  if ("reason" in redis) out.skipped.push(`Redis cache rows: ${redis.reason}`);
  const perCaseMs = (SECONDS * 1000) / 6 / RUNS;
  try {
    for (const [label, driver] of drivers) {
      const caches: [string, UrlCache][] = [["in-process LRU", new MemoryUrlCache()]];
      if (!("reason" in redis)) caches.push(["Redis", redis.cache]);
      const cached = caches.map(([name, cache]) => [name, new DownloadUrls(driver, cache, { ttlSeconds: TTL })] as const);
      const uncached = (i: number) => {
        const item = refs[i] as (typeof refs)[number];
        return driver.presignGet({ ...item.ref, expiresInSeconds: TTL, contentDisposition: item.disposition });
      };
      const viaCache = (urls: DownloadUrls) => (i: number) => {
        const item = refs[i] as (typeof refs)[number];
        return urls.get(item.ref, item.disposition);
      };
      // Warm-up: JIT, and every object's URL signed once into each cache (later calls are hits).
      await perCall(uncached, SMOKE ? 50 : 300);
      for (const [, urls] of cached) for (let i = 0; i < OBJECTS; i++) await viaCache(urls)(i);
      const results: Record<string, number[]> = {};
      for (let round = 0; round < RUNS; round++) {
        (results.uncached ??= []).push(await perCall(uncached, perCaseMs));
        for (const [name, urls] of cached) (results[name] ??= []).push(await perCall(viaCache(urls), perCaseMs));
      }
      const base = median(results.uncached ?? []);
      progress(NAME, `${label}: signing every time ${base.toFixed(2)} µs; ${cached.map(([n]) => `${n} ${median(results[n] ?? []).toFixed(2)} µs`).join("; ")}`);
      for (const [name] of cached) {
        const hit = median(results[name] ?? []);
        out.rows.push({
          benchmark: `download URL, ${label}`, metric: `µs per URL, ${name} hit`, unit: "µs", stowage: hit, baseline: base, baselineName: "presignGet every time",
          ratio: base / hit, ratioKind: "speed-up", target: "report the factor",
        });
      }
      out.raw[label] = results;
    }
  } finally {
    if (!("reason" in redis)) await redis.close();
    rmSync(root, { recursive: true, force: true });
  }
  out.notes.push(
    `download-url: in process (no server setting disables the reuse), sequential awaited calls over ${OBJECTS} objects with precomputed Content-Disposition, ` +
    `cache warmed first (every call a hit), ${RUNS} round(s), median; Redis at ${REDIS_URL} (a hit is one GET round trip)`,
  );
  return out;
}

await main(import.meta.url, run);

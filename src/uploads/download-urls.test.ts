import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { describe, it } from "node:test";
import type { PresignedRequest, PresignGetOptions, StorageDriver } from "../storage/driver.js";
import { DownloadUrls, MemoryUrlCache } from "./download-urls.js";
import type { CachedUrl, DownloadUrlOptions } from "./download-urls.js";

const T0 = Date.UTC(2024, 0, 2, 3, 4, 5);

/** A clock the test moves by hand, and a driver that only signs GETs, counting them. */
function setup(options: Omit<DownloadUrlOptions, "now"> = { ttlSeconds: 3600 }) {
  const clock = { now: T0 };
  const calls: PresignGetOptions[] = [];
  const driver = {
    async presignGet(input: PresignGetOptions): Promise<PresignedRequest> {
      calls.push(input);
      return {
        url: `https://store.example/${input.bucket}/${input.key}?n=${calls.length}`,
        method: "GET",
        headers: {},
        expiresAt: new Date(clock.now + input.expiresInSeconds * 1000),
      };
    },
  } as unknown as StorageDriver;
  const urls = new DownloadUrls(driver, new MemoryUrlCache(), { ...options, now: () => clock.now });
  return { clock, calls, urls };
}

const REF = { bucket: "media", key: "private/u1/a.png" };
const INLINE = "inline; filename=\"a.png\"";

describe("DownloadUrls", () => {
  it("signs once for the same bucket, key and disposition, and hands out the same URL", async () => {
    const { calls, urls } = setup();
    const a = await urls.get(REF, INLINE);
    const b = await urls.get({ ...REF }, INLINE);
    assert.equal(calls.length, 1);
    assert.deepEqual(b, a);
    assert.equal(a.url, "https://store.example/media/private/u1/a.png?n=1");
    assert.equal(a.expiresAt, T0 + 3600_000);
  });

  it("passes bucket, key, TTL and disposition to the driver", async () => {
    const { calls, urls } = setup({ ttlSeconds: 600 });
    await urls.get(REF, INLINE);
    assert.deepEqual(calls, [{ bucket: "media", key: "private/u1/a.png", expiresInSeconds: 600, contentDisposition: INLINE }]);
  });

  it("signs again for a different disposition, key or bucket", async () => {
    const { calls, urls } = setup();
    const first = await urls.get(REF, INLINE);
    const attachment = await urls.get(REF, "attachment; filename=\"a.png\"");
    const otherKey = await urls.get({ ...REF, key: "private/u1/b.png" }, INLINE);
    const otherBucket = await urls.get({ ...REF, bucket: "compliance" }, INLINE);
    assert.equal(calls.length, 4);
    assert.equal(new Set([first.url, attachment.url, otherKey.url, otherBucket.url]).size, 4);
    // …and each of them is reused afterwards.
    assert.deepEqual(await urls.get(REF, "attachment; filename=\"a.png\""), attachment);
    assert.deepEqual(await urls.get({ ...REF, key: "private/u1/b.png" }, INLINE), otherKey);
    assert.equal(calls.length, 4);
  });

  it("does not confuse keys whose parts would concatenate alike", async () => {
    const { calls, urls } = setup();
    await urls.get({ bucket: "a", key: "b/c" }, "d");
    await urls.get({ bucket: "a/b", key: "c" }, "d");
    await urls.get({ bucket: "a", key: "b" }, "c/d");
    assert.equal(calls.length, 3);
  });

  it("signs a fresh URL once the cached one is within the margin of its expiry", async () => {
    const { clock, calls, urls } = setup({ ttlSeconds: 3600, marginSeconds: 100 });
    const first = await urls.get(REF, INLINE);
    clock.now = T0 + (3600 - 100) * 1000 - 1; // 100.001 s left: still reused
    assert.deepEqual(await urls.get(REF, INLINE), first);
    assert.equal(calls.length, 1);
    clock.now = T0 + (3600 - 100) * 1000; // exactly the margin left: signed again
    const second = await urls.get(REF, INLINE);
    assert.equal(calls.length, 2);
    assert.notEqual(second.url, first.url);
    assert.equal(second.expiresAt, clock.now + 3600_000);
    clock.now += 1000;
    assert.deepEqual(await urls.get(REF, INLINE), second);
    assert.equal(calls.length, 2);
  });

  it("hands out only URLs with at least the margin left, across a time sweep", async () => {
    for (const [ttlSeconds, marginSeconds] of [[3600, 60], [300, 60], [100, undefined], [10, undefined], [900, 0]] as const) {
      const { clock, calls, urls } = setup(marginSeconds === undefined ? { ttlSeconds } : { ttlSeconds, marginSeconds });
      const margin = marginSeconds ?? Math.min(60, Math.floor(ttlSeconds / 5));
      const seen = new Set<string>();
      let handedOut = 0;
      // Steps of 0.7 s over ten lifetimes: hits times just before and after every renewal point.
      for (let t = 0; t <= ttlSeconds * 10_000; t += 700) {
        clock.now = T0 + t;
        const { url, expiresAt } = await urls.get(REF, INLINE);
        handedOut += 1;
        seen.add(url);
        assert.ok(expiresAt - clock.now >= margin * 1000, `ttl ${ttlSeconds}: ${expiresAt - clock.now} ms left at t=${t} (margin ${margin} s)`);
        assert.ok(expiresAt - clock.now > 0, `ttl ${ttlSeconds}: expired URL at t=${t}`);
      }
      assert.equal(seen.size, calls.length, "every signing yields a URL that is handed out");
      // Reuse works: far fewer signings than requests (one per ttl − margin, give or take one).
      const perLifetime = ttlSeconds - margin;
      assert.ok(calls.length <= Math.ceil((ttlSeconds * 10) / perLifetime) + 1, `ttl ${ttlSeconds}: ${calls.length} signings`);
      assert.ok(calls.length < handedOut, `ttl ${ttlSeconds}: no reuse`);
    }
  });

  it("defaults the margin to a fifth of the TTL, at most 60 s", async () => {
    // [ttl, expected margin]: min(60, ttl / 5)
    for (const [ttlSeconds, margin] of [[100, 20], [300, 60], [3600, 60], [10, 2]] as const) {
      const { clock, calls, urls } = setup({ ttlSeconds });
      await urls.get(REF, INLINE);
      clock.now = T0 + (ttlSeconds - margin) * 1000 - 1;
      await urls.get(REF, INLINE);
      assert.equal(calls.length, 1, `ttl ${ttlSeconds}: re-signed before ${margin} s were left`);
      clock.now = T0 + (ttlSeconds - margin) * 1000;
      await urls.get(REF, INLINE);
      assert.equal(calls.length, 2, `ttl ${ttlSeconds}: kept a URL with only ${margin} s left`);
    }
  });

  it("does not cache a URL that already has less than the margin left when signed", async () => {
    const { calls, urls } = setup({ ttlSeconds: 30, marginSeconds: 60 });
    await urls.get(REF, INLINE);
    await urls.get(REF, INLINE);
    assert.equal(calls.length, 2);
  });
});

describe("MemoryUrlCache", () => {
  const entry = (n: number): CachedUrl => ({ url: `https://store.example/${n}`, expiresAt: T0 + n });

  it("returns what was set, and undefined for unknown keys", async () => {
    const cache = new MemoryUrlCache();
    await cache.set("k", entry(1), 60_000);
    assert.deepEqual(await cache.get("k"), entry(1));
    assert.equal(await cache.get("other"), undefined);
  });

  it("evicts the least recently used entries beyond max", async () => {
    const cache = new MemoryUrlCache(2);
    await cache.set("a", entry(1), 60_000);
    await cache.set("b", entry(2), 60_000);
    await cache.set("c", entry(3), 60_000);
    assert.equal(await cache.get("a"), undefined);
    assert.deepEqual(await cache.get("b"), entry(2));
    assert.deepEqual(await cache.get("c"), entry(3));
    // "b" was read before "c": adding "d" evicts "b", the least recently used.
    await cache.get("c");
    await cache.set("d", entry(4), 60_000);
    assert.equal(await cache.get("b"), undefined);
    assert.deepEqual(await cache.get("c"), entry(3));
    assert.deepEqual(await cache.get("d"), entry(4));
  });

  it("holds at most max entries", async () => {
    const cache = new MemoryUrlCache(10);
    for (let i = 0; i < 100; i += 1) await cache.set(`k${i}`, entry(i), 60_000);
    let present = 0;
    for (let i = 0; i < 100; i += 1) if ((await cache.get(`k${i}`)) !== undefined) present += 1;
    assert.equal(present, 10);
    assert.deepEqual(await cache.get("k99"), entry(99));
  });

  it("drops an entry after its TTL", async () => {
    const cache = new MemoryUrlCache();
    await cache.set("k", entry(1), 5);
    await sleep(40);
    assert.equal(await cache.get("k"), undefined);
  });
});

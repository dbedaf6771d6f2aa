import { readFileSync, writeFileSync } from "node:fs";
import { deflateSync } from "node:zlib";
import { pngChunk, pngHeader } from "./fixtures.js";
import sharp from "sharp";

/**
 * Real images for the derivative tests and benchmark, made by sharp itself (from pixels, which
 * no loader block affects), plus a hand-made PNG whose header lies about its size.
 */

/** A photo-like JPEG: Gaussian noise compresses about as badly as a real photo, so decoding costs what a photo's does. */
export async function noisyJpeg(width: number, height: number, quality = 85): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: "#808080", noise: { type: "gaussian", mean: 128, sigma: 40 } } })
    .jpeg({ quality })
    .toBuffer();
}

/** A PNG with an alpha channel: a half-transparent green field. */
export async function alphaPng(width: number, height: number): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 4, background: { r: 0, g: 200, b: 0, alpha: 0.5 } } }).png().toBuffer();
}

/**
 * A decompression bomb: a valid PNG signature, an IHDR declaring `width`×`height` RGB (correct
 * CRC), one tiny zlib IDAT (a single zero row) and IEND. A few hundred bytes that would decode to
 * width × height × 3 bytes: 30000×30000 asks for 2.7 GB.
 */
export function pngHeaderBomb(width: number, height: number): Buffer {
  return Buffer.concat([
    Buffer.from("89504e470d0a1a0a", "hex"),
    pngChunk("IHDR", pngHeader(width, height)),
    pngChunk("IDAT", deflateSync(Buffer.alloc(1 + width * 3))),
    pngChunk("IEND", Buffer.alloc(0)),
  ]);
}

/**
 * Peak resident memory of this process while `fn` runs, in bytes above the level before it.
 * On Linux the kernel's high-water mark (VmHWM) is reset first (`/proc/self/clear_refs` ← 5), so
 * the figure includes peaks between samples; elsewhere RSS is sampled every millisecond.
 */
export async function peakRssGrowth<T>(fn: () => Promise<T>): Promise<{ result: T | undefined; error: unknown; growthBytes: number }> {
  const before = process.memoryUsage.rss();
  let sampled = before;
  const timer = setInterval(() => {
    sampled = Math.max(sampled, process.memoryUsage.rss());
  }, 1);
  const hwm = () => Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync("/proc/self/status", "utf8"))?.[1] ?? 0) * 1024;
  let kernel = false;
  try {
    writeFileSync("/proc/self/clear_refs", "5");
    kernel = true;
  } catch {
    // Not Linux, or clear_refs not writable: sampling only.
  }
  let result: T | undefined;
  let error: unknown;
  try {
    result = await fn();
  } catch (caught) {
    error = caught;
  } finally {
    clearInterval(timer);
  }
  const peak = Math.max(sampled, process.memoryUsage.rss(), kernel ? hwm() : 0);
  return { result, error, growthBytes: Math.max(0, peak - before) };
}

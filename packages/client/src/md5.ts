import { md5 } from "@noble/hashes/legacy.js";
import { createMD5 } from "hash-wasm";
import type { ByteRange } from "./source.js";

/** Computes the base64 MD5 of a range (the value of `Content-MD5`). */
export type Md5 = (range: ByteRange) => Promise<string>;

/**
 * MD5 over a stream in browsers (Web Crypto has none; Node uses `node:crypto`, `node.ts`):
 * `hash-wasm`'s WebAssembly MD5 (about 6× `@noble/hashes` here: `npm run bench -- integrity`),
 * or `@noble/hashes` (audited, plain JavaScript) where WebAssembly is unavailable, e.g. a page
 * whose Content-Security-Policy lacks `'wasm-unsafe-eval'`.
 */
export const browserMd5: Md5 = async (range) => {
  let hasher;
  try {
    hasher = await createMD5();
  } catch {
    return nobleMd5(range);
  }
  const reader = range.stream().getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    hasher.update(value);
  }
  return base64(hasher.digest("binary"));
};

/** MD5 with `@noble/hashes` over a stream. */
export const nobleMd5: Md5 = async (range) => {
  const hash = md5.create();
  const reader = range.stream().getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    hash.update(value);
  }
  return base64(hash.digest());
};

export function base64(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}

/** The hex form of a base64 MD5, as S3 puts it in a part's ETag. */
export function md5Hex(contentMd5: string): string {
  return Array.from(atob(contentMd5), (char) => char.charCodeAt(0).toString(16).padStart(2, "0")).join("");
}

import { randomFillSync } from "node:crypto";
import { v7 } from "uuid";

/** 256 ids' worth of random bytes, refilled when used up. */
const pool = Buffer.allocUnsafe(16 * 256);
let offset = pool.length;

/** 16 fresh random bytes; a copy, so the pool is never handed out. */
function randomBytes16(): Uint8Array {
  if (offset + 16 > pool.length) {
    randomFillSync(pool);
    offset = 0;
  }
  offset += 16;
  return Uint8Array.prototype.slice.call(pool, offset - 16, offset);
}

/**
 * A new upload id: a UUIDv7, ordered by its millisecond so primary-key inserts land at the end
 * of the index (ids of one millisecond are in random order among themselves).
 * uuid draws its randomness through WebCrypto's getRandomValues per id (~4 % of a presign under
 * load); here it comes from a pooled `randomFillSync`, as Node's own `randomUUID` does.
 */
export function newUploadId(): string {
  return v7({ rng: randomBytes16 });
}

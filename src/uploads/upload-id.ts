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

// uuid keeps ids of one millisecond in order with a counter only when called without options;
// given an `rng` it draws that counter at random. So the counter is kept here, as uuid does.
const last = { msecs: -Infinity, seq: 0 };

/**
 * A new upload id: a UUIDv7, in creation order (its millisecond, then a counter seeded at random
 * each millisecond, RFC 9562 method 2), so primary-key inserts land at the end of the index and
 * listing by id is newest first even for ids of one millisecond.
 * uuid draws its randomness through WebCrypto's getRandomValues per id (~4 % of a presign under
 * load); here it comes from a pooled `randomFillSync`, as Node's own `randomUUID` does.
 */
export function newUploadId(): string {
  const random = randomBytes16();
  const now = Date.now();
  if (now > last.msecs) {
    last.msecs = now;
    // 31 random bits, as uuid seeds it: room to count up within the millisecond.
    last.seq = (((random[6] ?? 0) & 0x7f) << 24) | ((random[7] ?? 0) << 16) | ((random[8] ?? 0) << 8) | (random[9] ?? 0);
  } else {
    last.seq = (last.seq + 1) | 0;
    // The counter ran out (or the clock went back): borrow the next millisecond.
    if (last.seq === 0) last.msecs++;
  }
  return v7({ random, msecs: last.msecs, seq: last.seq });
}

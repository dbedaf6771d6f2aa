import { StowageError } from "../errors.js";

/**
 * The refusal of a body whose MD5 is not the `Content-MD5` it was sent with (S3's `BadDigest`):
 * the bytes changed on the way, nothing was stored, and the same URL may be used again.
 * `computedMd5` is given where the bytes passed through Stowage (local disk).
 */
export function badDigest(contentMd5: string, computedMd5?: string): StowageError {
  return new StowageError(
    "BAD_DIGEST",
    "The body does not match its Content-MD5: the bytes were changed on the way. Nothing was stored; upload them again.",
    { details: computedMd5 === undefined ? { contentMd5 } : { contentMd5, computedMd5 } },
  );
}

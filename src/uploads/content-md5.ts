import { CONTENT_MD5_PATTERN } from "../api/primitives.js";
import { StowageError } from "../errors.js";

const CONTENT_MD5 = new RegExp(CONTENT_MD5_PATTERN);

/** A `Content-MD5` value: the base64 of a 16-byte MD5 digest (24 characters ending in `==`). */
export function isContentMd5(value: unknown): value is string {
  return typeof value === "string" && CONTENT_MD5.test(value);
}

/**
 * The part numbers to sign, each once, with the MD5 its URL must carry (or undefined). The
 * service's own check of `contentMd5s`, whoever calls it: it must be as long as `partNumbers`
 * (the two are read side by side), hold only MD5s, and give a part number asked for twice the
 * same MD5 both times. Refusals are `INVALID_REQUEST` naming the field `contentMd5s`.
 *
 * @example
 * partMd5s([1, 2], ["XUFAKrxLKna5cZ2REBfFkg==", "XUFAKrxLKna5cZ2REBfFkg=="]); // Map { 1 => "XUF…", 2 => "XUF…" }
 * partMd5s([1, 2], ["XUFAKrxLKna5cZ2REBfFkg=="]); // throws: contentMd5s must have one MD5 per part number (2), got 1.
 */
export function partMd5s(partNumbers: readonly number[], contentMd5s: readonly unknown[] | undefined): Map<number, string | undefined> {
  const refuse = (message: string) => new StowageError("INVALID_REQUEST", message, { details: { field: "contentMd5s" } });
  if (contentMd5s !== undefined) {
    if (!Array.isArray(contentMd5s) || contentMd5s.length !== partNumbers.length) {
      const got = Array.isArray(contentMd5s) ? contentMd5s.length : typeof contentMd5s;
      throw refuse(`contentMd5s must have one MD5 per part number (${partNumbers.length}), in the same order; got ${got}.`);
    }
    const bad = contentMd5s.findIndex((md5) => !isContentMd5(md5));
    if (bad !== -1) throw refuse(`contentMd5s[${bad}] must be the base64 of a 16-byte MD5 (24 characters ending in ==).`);
  }
  const pairs = new Map<number, string | undefined>();
  partNumbers.forEach((partNumber, i) => {
    const md5 = contentMd5s?.[i] as string | undefined;
    if (pairs.has(partNumber) && pairs.get(partNumber) !== md5) {
      throw refuse(`Part ${partNumber} is asked for twice with different MD5s.`);
    }
    pairs.set(partNumber, md5);
  });
  return pairs;
}

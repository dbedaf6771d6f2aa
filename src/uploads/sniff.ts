import { fileTypeFromBuffer } from "file-type";

/** Bytes to read from the start of an object: what file-type needs for every format it knows. */
export const SNIFF_BYTES = 4100;

/**
 * Types file-type reports under another name for the same container: a WebM voice note is
 * detected as `video/webm`, an M4A as `audio/x-m4a`.
 */
const EQUIVALENT: Readonly<Record<string, readonly string[]>> = {
  "audio/webm": ["video/webm"],
  "audio/mp4": ["audio/x-m4a", "video/mp4", "audio/mp4"],
  "audio/ogg": ["audio/ogg", "audio/opus"],
  "video/quicktime": ["video/quicktime"],
  "image/heic": ["image/heic", "image/heif"],
};

/** Formats with no magic bytes: accepted when the sample is text (UTF-8 without NULs). */
const TEXT_TYPES = new Set(["text/plain", "text/csv", "application/json"]);

export type SniffResult =
  | { ok: true; detected: string }
  | { ok: false; detected: string | undefined; reason: string };

/**
 * Whether the first bytes of an object are really of the declared type. The declared type is
 * the client's word; this is the server's check of it.
 */
export async function sniff(sample: Uint8Array, declared: string): Promise<SniffResult> {
  const found = await fileTypeFromBuffer(sample);
  if (TEXT_TYPES.has(declared)) {
    if (found !== undefined) {
      return {
        ok: false,
        detected: found.mime,
        reason: `the content is ${found.mime}, not ${declared}`,
      };
    }
    return looksLikeText(sample)
      ? { ok: true, detected: declared }
      : { ok: false, detected: undefined, reason: `the content is binary, not ${declared}` };
  }
  if (found === undefined) {
    return {
      ok: false,
      detected: undefined,
      reason: `the content is not recognisable as ${declared}`,
    };
  }
  const accepted = EQUIVALENT[declared] ?? [declared];
  if (found.mime === declared || accepted.includes(found.mime))
    return { ok: true, detected: declared };
  return {
    ok: false,
    detected: found.mime,
    reason: `the content is ${found.mime}, not ${declared}`,
  };
}

function looksLikeText(sample: Uint8Array): boolean {
  if (sample.includes(0)) return false;
  // A sample may end inside a multi-byte character: drop up to 3 trailing bytes before decoding.
  for (let cut = 0; cut <= Math.min(3, sample.length); cut++) {
    try {
      new TextDecoder("utf-8", { fatal: true }).decode(sample.subarray(0, sample.length - cut));
      return true;
    } catch {
      // try a shorter sample
    }
  }
  return false;
}

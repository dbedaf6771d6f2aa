import sharp from "sharp";
import { RASTER_INPUT_TYPES } from "./input-types.js";

let hardened = false;

/**
 * Process-wide sharp settings for untrusted images, applied once (idempotent; `renderDerivative`
 * calls it first, an entry point may call it at start-up).
 *
 * - Every libvips loader is blocked (`VipsForeignLoad` is their common parent), then only the
 *   Buffer loaders of {@link RASTER_INPUT_TYPES} are unblocked. libvips picks a loader from the
 *   bytes, not from the type we were told, so without this an SVG (librsvg, which can fetch
 *   files), a PDF, TIFF or a magick/openslide file would be decoded if it came in under a raster
 *   name. Blocked loaders are skipped when libvips sniffs the format, so such bytes are refused as
 *   an unsupported format before any decoder runs. This is the runtime form of
 *   `VIPS_BLOCK_UNTRUSTED` (sharp ≥ 0.32.4), and it holds for every sharp use in the process.
 * - The libvips operation cache is off: it keys on the operation and its arguments, and every
 *   derivative comes from a different upload, so it would never hit; left on it keeps up to
 *   50 MiB of decoded pixels (and 20 open files) alive per process for nothing.
 * - Threads are left as sharp sets them: on glibc Linux without jemalloc (Debian, our images)
 *   sharp already uses 1 libvips thread per image, because glibc's allocator fragments badly
 *   with more; elsewhere one per core. How many images render at once is bounded by libuv's
 *   pool (UV_THREADPOOL_SIZE, default 4), which the caller should bound further by queueing.
 */
export function hardenSharp(): void {
  if (hardened) return;
  sharp.block({ operation: ["VipsForeignLoad"] });
  sharp.unblock({ operation: Object.values(RASTER_INPUT_TYPES).map((input) => input.loader) });
  sharp.cache(false);
  hardened = true;
}

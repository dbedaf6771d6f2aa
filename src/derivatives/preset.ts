/**
 * A derivative preset: one fixed rendering of an uploaded image (a thumbnail), named in a
 * policy's `derivatives`. Presets live in the server's config and are never chosen or shaped by
 * a client: Active Storage's CVE-2022-21831 and CVE-2025-24293 both came from transformations a
 * request could influence. A client may at most ask for a preset by name.
 *
 * @example
 * const thumb: DerivativePreset = { width: 256, height: 256, fit: "cover", format: "webp" };
 */
export interface DerivativePreset {
  /** Output box in pixels, 1..{@link MAX_DERIVATIVE_DIMENSION}. */
  readonly width: number;
  readonly height: number;
  /**
   * `cover`: fill the box exactly, cropping the overflow (centre). `contain`: fit inside the box
   * and letterbox to exactly its size (transparent, or white for JPEG). `inside`: fit inside the
   * box, keeping the image's own aspect ratio (the output may be smaller than the box).
   * Images are never enlarged beyond their own size with `inside`.
   */
  readonly fit: DerivativeFit;
  readonly format: DerivativeFormat;
  /** Encoder quality 1..100; absent: the encoder's default (sharp: 80 for webp/jpeg, 50 for avif). PNG: implies a palette. */
  readonly quality?: number;
}

export const DERIVATIVE_FITS = ["cover", "contain", "inside"] as const;
export type DerivativeFit = (typeof DERIVATIVE_FITS)[number];

export const DERIVATIVE_FORMATS = ["webp", "jpeg", "png", "avif"] as const;
export type DerivativeFormat = (typeof DERIVATIVE_FORMATS)[number];

/** Largest width or height a preset may ask for: thumbnails and previews, not re-encodes of the original. */
export const MAX_DERIVATIVE_DIMENSION = 4096;
/** Presets per policy at most: each one is work on every upload of that type. */
export const MAX_DERIVATIVES_PER_POLICY = 8;
/**
 * Preset names: short, lower-case, safe as one object key segment as they are (no escaping),
 * and the shape `derivativeKey` relies on.
 */
export const PRESET_NAME_PATTERN = "^[a-z][a-z0-9_]{0,31}$";

/** The content type and key extension of each output format. */
export const OUTPUT_TYPES: Readonly<Record<DerivativeFormat, { contentType: string; ext: string }>> = {
  webp: { contentType: "image/webp", ext: "webp" },
  jpeg: { contentType: "image/jpeg", ext: "jpg" },
  png: { contentType: "image/png", ext: "png" },
  avif: { contentType: "image/avif", ext: "avif" },
};

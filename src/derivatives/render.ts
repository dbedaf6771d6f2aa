import sharp from "sharp";
import { DerivativeError } from "./derivative-error.js";
import { hardenSharp } from "./harden.js";
import { rasterInput } from "./input-types.js";
import { type DerivativePreset, OUTPUT_TYPES } from "./preset.js";

/**
 * Default decoded-size limit: 40 megapixels. A 12-MP phone photo (4000×3000) and a 24-MP camera
 * frame pass; a decompression bomb (a few hundred bytes declaring 30000×30000, 900 MP, 3.6 GB
 * as RGBA) is refused from its header. sharp's own default is 268 MP, which would let one upload
 * ask for over a gigabyte.
 */
export const DEFAULT_MAX_INPUT_PIXELS = 40_000_000;
/** Default time limit of one render; libvips stops the pipeline when it runs out. */
export const DEFAULT_RENDER_TIMEOUT_SECONDS = 30;

export interface RenderOptions {
  /** The original's bytes. */
  input: Buffer;
  /** The type the server accepted the upload as (sniffed), not the client's word. */
  contentType: string;
  preset: DerivativePreset;
  /** Refuse inputs whose header declares more pixels than this (per frame). Default {@link DEFAULT_MAX_INPUT_PIXELS}. */
  maxInputPixels?: number;
  /** Default {@link DEFAULT_RENDER_TIMEOUT_SECONDS}. */
  timeoutSeconds?: number;
}

export interface RenderedDerivative {
  body: Buffer;
  width: number;
  height: number;
  /** The output format's type, e.g. `image/webp`. */
  contentType: string;
}

/**
 * Renders one preset of an uploaded image: auto-oriented from EXIF, resized, encoded, with no
 * metadata at all (EXIF, GPS, XMP, ICC: sharp writes none unless asked, and converts to sRGB).
 * Only the decoders of raster input types can run (see `hardenSharp`), the declared type must
 * be one of them and must be what libvips finds in the bytes, and the pixel limit is checked
 * against the header before anything is decoded.
 *
 * @example
 * const thumb = await renderDerivative({ input, contentType: "image/jpeg", preset: { width: 256, height: 256, fit: "cover", format: "webp" } });
 * // thumb.body: a 256×256 WebP; thumb.contentType: "image/webp"
 * @throws {DerivativeError} `UNSUPPORTED_TYPE`, `IMAGE_TOO_LARGE`, `IMAGE_INVALID`, `RENDER_TIMEOUT`
 */
export async function renderDerivative(options: RenderOptions): Promise<RenderedDerivative> {
  const { input, contentType, preset } = options;
  const expected = rasterInput(contentType);
  if (expected === undefined) {
    throw new DerivativeError("UNSUPPORTED_TYPE", `Derivatives are not made from ${contentType}.`, { details: { contentType } });
  }
  hardenSharp();
  const output = OUTPUT_TYPES[preset.format];
  const maxInputPixels = options.maxInputPixels ?? DEFAULT_MAX_INPUT_PIXELS;
  try {
    const image = sharp(input, {
      limitInputPixels: maxInputPixels,
      // sharp's default today, written down so a change of default cannot loosen it: a decoder
      // warning (truncated data, bad Huffman code, CRC error) fails the render, no grey half-image.
      failOn: "warning",
    });
    // The header only: which loader libvips chose, and the declared size.
    const meta = await image.metadata();
    if (meta.format !== expected.format || (expected.compression !== undefined && meta.compression !== expected.compression)) {
      const found = meta.compression === undefined ? meta.format : `${meta.format}/${meta.compression}`;
      throw new DerivativeError("UNSUPPORTED_TYPE", `The bytes are ${found}, not ${contentType}.`, { details: { contentType, found } });
    }
    const jpeg = preset.format === "jpeg";
    // JPEG has no alpha: transparent areas become white rather than libvips' default black.
    const background = jpeg ? "#ffffff" : { r: 0, g: 0, b: 0, alpha: 0 };
    let pipeline = image
      .rotate()
      .resize({
        width: preset.width,
        height: preset.height,
        fit: preset.fit,
        background,
        // `inside` keeps the image's own size when it is already smaller; cover and contain give the box exactly.
        withoutEnlargement: preset.fit === "inside",
      })
      .timeout({ seconds: options.timeoutSeconds ?? DEFAULT_RENDER_TIMEOUT_SECONDS });
    if (jpeg) pipeline = pipeline.flatten({ background });
    const quality = preset.quality === undefined ? {} : { quality: preset.quality };
    const { data, info } = await pipeline.toFormat(preset.format, quality).toBuffer({ resolveWithObject: true });
    return { body: data, width: info.width, height: info.height, contentType: output.contentType };
  } catch (error) {
    throw asDerivativeError(error, contentType, maxInputPixels);
  }
}

/** sharp reports every failure as a plain Error with libvips' message; these are the ones that mean something to a caller. */
function asDerivativeError(error: unknown, contentType: string, maxInputPixels: number): DerivativeError {
  if (error instanceof DerivativeError) return error;
  const message = error instanceof Error ? error.message : String(error);
  if (message.includes("exceeds pixel limit")) {
    return new DerivativeError("IMAGE_TOO_LARGE", `The image has more than ${maxInputPixels} pixels.`, { details: { maxInputPixels }, cause: error });
  }
  if (message.includes("unsupported image format")) {
    return new DerivativeError("UNSUPPORTED_TYPE", `The bytes are not a ${contentType} image.`, { details: { contentType }, cause: error });
  }
  if (/\btimeout\b/.test(message)) {
    return new DerivativeError("RENDER_TIMEOUT", "Rendering the derivative took too long.", { cause: error });
  }
  return new DerivativeError("IMAGE_INVALID", `The image could not be decoded: ${message}`, { details: { contentType }, cause: error });
}

import { normalizeMimeType } from "../policies/mime.js";

/**
 * The uploaded types a derivative may be rendered from, and what each must look like to libvips.
 * Raster formats only: SVG (a document that can reference files and URLs), PDF, TIFF and the
 * ImageMagick/OpenSlide loaders are never inputs, whatever a policy allows. HEIC is left out too:
 * the prebuilt libvips sharp ships decodes AVIF but has no HEVC decoder.
 */
export const RASTER_INPUT_TYPES: Readonly<Record<string, RasterInput>> = {
  "image/jpeg": { format: "jpeg", loader: "VipsForeignLoadJpegBuffer" },
  "image/png": { format: "png", loader: "VipsForeignLoadPngBuffer" },
  "image/webp": { format: "webp", loader: "VipsForeignLoadWebpBuffer" },
  "image/gif": { format: "gif", loader: "VipsForeignLoadNsgifBuffer" },
  // libvips reads AVIF through its HEIF loader and reports it as `heif` with AV1 compression.
  "image/avif": { format: "heif", compression: "av1", loader: "VipsForeignLoadHeifBuffer" },
};

export interface RasterInput {
  /** `metadata().format` libvips reports for this type. */
  readonly format: string;
  /** For HEIF containers: the codec inside (`av1` for AVIF). */
  readonly compression?: string;
  /** The one libvips loader (from a Buffer) left unblocked for this type; see `harden.ts`. */
  readonly loader: string;
}

/** The raster input description of a content type, or undefined when derivatives cannot be made from it. */
export function rasterInput(contentType: string): RasterInput | undefined {
  const type = normalizeMimeType(contentType);
  return Object.hasOwn(RASTER_INPUT_TYPES, type) ? RASTER_INPUT_TYPES[type] : undefined;
}

/** Whether derivatives can be rendered from uploads of this content type (the pipeline skips the rest). */
export function canRenderFrom(contentType: string): boolean {
  return rasterInput(contentType) !== undefined;
}

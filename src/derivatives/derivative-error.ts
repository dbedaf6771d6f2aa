/**
 * Why a derivative could not be made. Not an API error code (not in `ERROR_STATUS`): rendering
 * runs after an upload was accepted, and whoever runs it decides what a failure means for the
 * upload (skip the thumbnail, or reject an avatar that is no image); it can map these codes to
 * a `StowageError` then.
 */
export type DerivativeErrorCode =
  /** The declared dimensions exceed the pixel limit: refused from the header, before decoding. */
  | "IMAGE_TOO_LARGE"
  /** Corrupt, truncated, or anything the decoder warned about. */
  | "IMAGE_INVALID"
  /** Not a raster type derivatives are made from, or the bytes are not of the type they were accepted as. */
  | "UNSUPPORTED_TYPE"
  /** Rendering took longer than its time limit. */
  | "RENDER_TIMEOUT";

export class DerivativeError extends Error {
  override readonly name = "DerivativeError";
  readonly code: DerivativeErrorCode;
  readonly details: Readonly<Record<string, unknown>> | undefined;

  constructor(code: DerivativeErrorCode, message: string, options: { details?: Record<string, unknown>; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.details = options.details;
  }
}

export function isDerivativeError(value: unknown): value is DerivativeError {
  return value instanceof DerivativeError;
}

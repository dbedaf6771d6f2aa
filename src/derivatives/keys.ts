import { DERIVATIVE_FORMATS, type DerivativeFormat, OUTPUT_TYPES, PRESET_NAME_PATTERN } from "./preset.js";

/**
 * Where derivatives are stored: in the original's bucket, under a prefix of their own.
 *
 * Why a leading dot: no key a policy template renders can start with one. Templates may not
 * start with `.` (refused at start-up, `templateProblems`), and no template variable renders a
 * leading dot (`{userId}`/`{ownerId}` go through `safeSegment`, which hashes such values; `{id}`
 * is a UUID; `{ext}`, `{yyyy}`, `{mm}`, `{dd}` are fixed shapes). A plain word would not do:
 * `{userId}` can render `derivatives` when that is someone's JWT subject, and a template like
 * `{userId}/{id}/{ownerId}.{ext}` could then render a derivative's exact key. Storage probes
 * (`.stowage-probe/`) use the same rule.
 *
 * The orphan sweeper lists only policies' static prefixes and `staging/`; a template starting
 * with a variable makes it list the whole bucket, so whoever wires derivatives in must teach it
 * these keys ({@link parseDerivativeKey} gives the upload id), as it knows the probe prefix.
 */
export const DERIVATIVE_PREFIX = ".derivatives/";

const UPLOAD_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const PRESET_NAME = new RegExp(PRESET_NAME_PATTERN);
const EXT_TO_FORMAT = new Map(DERIVATIVE_FORMATS.map((format) => [OUTPUT_TYPES[format].ext, format]));

/**
 * The key of one derivative of an upload: made only from server-side values (the upload's id,
 * the preset's configured name, its output format), never from the client's filename.
 *
 * @example
 * derivativeKey({ uploadId: "0190f5e2-7c1a-7b3e-9a41-2f6d8c0b1e22", preset: "thumb", format: "webp" })
 * // ".derivatives/0190f5e2-7c1a-7b3e-9a41-2f6d8c0b1e22/thumb.webp"
 * @throws {RangeError} when the id is not a UUID or the name not a preset name (a bug in the caller, not bad input)
 */
export function derivativeKey(options: { uploadId: string; preset: string; format: DerivativeFormat }): string {
  const { uploadId, preset, format } = options;
  if (!UPLOAD_ID.test(uploadId)) throw new RangeError(`not an upload id: '${uploadId}'`);
  if (!PRESET_NAME.test(preset)) throw new RangeError(`not a preset name: '${preset}'`);
  return `${DERIVATIVE_PREFIX}${uploadId}/${preset}.${OUTPUT_TYPES[format].ext}`;
}

/** The prefix holding every derivative of one upload, to list or delete them with it. */
export function derivativePrefix(uploadId: string): string {
  if (!UPLOAD_ID.test(uploadId)) throw new RangeError(`not an upload id: '${uploadId}'`);
  return `${DERIVATIVE_PREFIX}${uploadId}/`;
}

/** The parts of a derivative key, or undefined when `key` is not one (for the sweeper and storage tools). */
export function parseDerivativeKey(key: string): { uploadId: string; preset: string; format: DerivativeFormat } | undefined {
  if (!key.startsWith(DERIVATIVE_PREFIX)) return undefined;
  const [uploadId, file, ...rest] = key.slice(DERIVATIVE_PREFIX.length).split("/");
  if (uploadId === undefined || file === undefined || rest.length > 0 || !UPLOAD_ID.test(uploadId)) return undefined;
  const dot = file.lastIndexOf(".");
  const preset = file.slice(0, dot);
  const format = EXT_TO_FORMAT.get(file.slice(dot + 1));
  if (dot < 1 || format === undefined || !PRESET_NAME.test(preset)) return undefined;
  return { uploadId, preset, format };
}

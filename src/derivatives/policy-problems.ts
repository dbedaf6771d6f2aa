import { RASTER_INPUT_TYPES } from "./input-types.js";
import {
  DERIVATIVE_FITS,
  DERIVATIVE_FORMATS,
  type DerivativePreset,
  MAX_DERIVATIVE_DIMENSION,
  MAX_DERIVATIVES_PER_POLICY,
  PRESET_NAME_PATTERN,
} from "./preset.js";

const PRESET_NAME = new RegExp(PRESET_NAME_PATTERN);

/**
 * Problems with a policy's `derivatives`, for start-up validation (empty when usable). The
 * config file's schema checks the same shapes; this also covers the built-ins, and adds what a
 * schema cannot see: derivatives need at least one allowed type they can be rendered from.
 * Uploads of the policy's other types (a PDF beside JPEGs) simply get no derivatives.
 */
export function derivativesProblems(
  allowedTypes: readonly string[],
  derivatives: Readonly<Record<string, DerivativePreset>> | undefined,
): string[] {
  const entries = Object.entries(derivatives ?? {});
  if (entries.length === 0) return [];
  const problems: string[] = [];
  if (!allowedTypes.some((type) => Object.hasOwn(RASTER_INPUT_TYPES, type))) {
    problems.push(
      `derivatives need an allowed type they can be made from (${Object.keys(RASTER_INPUT_TYPES).join(", ")}); ` +
      `allowedTypes has none${allowedTypes.includes("image/svg+xml") ? " (image/svg+xml is never read as an image)" : ""}`,
    );
  }
  if (entries.length > MAX_DERIVATIVES_PER_POLICY) problems.push(`derivatives: at most ${MAX_DERIVATIVES_PER_POLICY} presets (got ${entries.length})`);
  for (const [name, preset] of entries) {
    const where = `derivative '${name}'`;
    if (!PRESET_NAME.test(name)) problems.push(`${where}: the name must match ${PRESET_NAME_PATTERN}`);
    for (const side of ["width", "height"] as const) {
      const value = preset[side];
      if (!Number.isInteger(value) || value < 1 || value > MAX_DERIVATIVE_DIMENSION) {
        problems.push(`${where}: ${side} must be a whole number from 1 to ${MAX_DERIVATIVE_DIMENSION}`);
      }
    }
    if (!DERIVATIVE_FITS.includes(preset.fit)) problems.push(`${where}: fit must be one of ${DERIVATIVE_FITS.join(", ")}`);
    if (!DERIVATIVE_FORMATS.includes(preset.format)) problems.push(`${where}: format must be one of ${DERIVATIVE_FORMATS.join(", ")}`);
    const quality = preset.quality;
    if (quality !== undefined && (!Number.isInteger(quality) || quality < 1 || quality > 100)) {
      problems.push(`${where}: quality must be a whole number from 1 to 100`);
    }
  }
  return problems;
}

import { StowageError } from "../errors.js";
import type { PresignRequest as PresignInput } from "../api/presign.js";
import { isContentMd5 } from "./content-md5.js";

/** A presign request as it may arrive from any caller: every field still to be checked. */
export type UntrustedPresignInput = { readonly [K in keyof PresignInput]?: unknown };

/**
 * The service's own check of a presign request, whoever calls it: the HTTP schema refuses the
 * same things, but the service is also called directly (tests, scripts, other front ends), and
 * a size of -5 or 1.5 would otherwise be signed into a `Content-Length`. Throws
 * `INVALID_REQUEST` with `details.field` naming the field (`size`, not `body.size`: the service
 * knows nothing of HTTP).
 *
 * @example
 * assertPresignInput({ ownerType: "avatar", filename: "me.png", contentType: "image/png", size: -5 });
 * // throws StowageError INVALID_REQUEST "size must be a whole number of bytes, at least 1 (got -5)."
 */
export function assertPresignInput(input: UntrustedPresignInput): asserts input is PresignInput {
  const { ownerType, filename, contentType, size, ownerId, method, contentMd5 } = input;
  if (typeof ownerType !== "string") refuse("ownerType", "must be a string", ownerType);
  if (!nonEmptyString(filename)) refuse("filename", "must be a non-empty string", filename);
  if (!nonEmptyString(contentType)) refuse("contentType", "must be a non-empty string", contentType);
  if (!Number.isSafeInteger(size) || (size as number) < 1) {
    refuse("size", "must be a whole number of bytes, at least 1", size);
  }
  if (ownerId !== undefined && !nonEmptyString(ownerId)) refuse("ownerId", "must be a non-empty string when given", ownerId);
  if (method !== undefined && method !== "PUT" && method !== "POST") refuse("method", "must be PUT or POST when given", method);
  if (contentMd5 !== undefined && !isContentMd5(contentMd5)) {
    refuse("contentMd5", "must be the base64 of a 16-byte MD5 (24 characters ending in ==) when given", contentMd5);
  }
  // AWS documents a Content-MD5 form field for POST, but Ceph RGW 16 stores a form's file
  // whatever that field says (measured: a pinned MD5 field and a different body, 204 and
  // stored). Rather than hand out a form that promises a check the store may not make, refused.
  if (contentMd5 !== undefined && method === "POST") refuse("contentMd5", "is for PUT uploads only: a POST form is not checked by every store", method);
}

function nonEmptyString(value: unknown): value is string {
  return typeof value === "string" && value.length > 0;
}

function refuse(field: string, rule: string, value: unknown): never {
  throw new StowageError("INVALID_REQUEST", `${field} ${rule} (got ${shown(value)}).`, { details: { field } });
}

/** The refused value, short and never huge: enough to recognise the mistake. */
function shown(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === "object" && value !== null) return Array.isArray(value) ? "an array" : "an object";
  return String(value);
}

import type { StowageClientError } from "./errors.js";

/**
 * A sentence for the person who picked the file, from the error's `code` and `details` (the
 * server's own figures): "This file is 6 MB; the limit is 5 MB." rather than a byte count. Codes
 * without a sentence here keep the server's message, which is already written for people.
 *
 * @example
 * catch (error) { if (isStowageClientError(error)) toast(describeUploadError(error)); }
 */
export function describeUploadError(error: StowageClientError): string {
  const d = error.details ?? {};
  const num = (key: string) => (typeof d[key] === "number" ? d[key] : undefined);
  switch (error.code) {
    case "FILE_TOO_LARGE": {
      const size = num("size");
      const max = num("maxBytes");
      if (size !== undefined && max !== undefined) return `This file is ${bytes(size)}; the limit is ${bytes(max)}.`;
      return "This file is larger than allowed here.";
    }
    case "CONTENT_TYPE_NOT_ALLOWED": {
      const type = typeof d.contentType === "string" ? d.contentType : "This type of";
      const allowed = Array.isArray(d.allowedTypes) ? ` (allowed: ${d.allowedTypes.join(", ")})` : "";
      return `${type} files are not accepted here${allowed}.`;
    }
    case "QUOTA_EXCEEDED": {
      const limit = num("limitBytes");
      const used = (num("usedBytes") ?? 0) + (num("reservedBytes") ?? 0);
      const needed = num("rejectedBytes");
      if (limit === undefined) return "Not enough storage left for this file.";
      return `Not enough storage left: ${bytes(used)} of ${bytes(limit)} is in use` + (needed === undefined ? "." : ` and this file needs ${bytes(needed)}.`);
    }
    case "RATE_LIMITED":
    case "TOO_MANY_PENDING_UPLOADS":
      return `Too many uploads at once; try again in a moment. (${error.message})`;
    case "UNAUTHENTICATED":
      return "Your session has expired: sign in again, then retry.";
    case "FORBIDDEN":
      return "You are not allowed to upload this here.";
    default:
      if (error.kind === "network") return `The upload could not get through: ${error.message} Check the connection and retry.`;
      return error.message;
  }
}

/** Decimal units, as the server's limits are written (5 MB = 5,000,000 bytes). */
export function bytes(n: number): string {
  if (n < 1000) return `${n} bytes`;
  const [value, unit] = n < 1e6 ? [n / 1e3, "kB"] : n < 1e9 ? [n / 1e6, "MB"] : [n / 1e9, "GB"];
  return `${Number(value.toFixed(1))} ${unit}`;
}

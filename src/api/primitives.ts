import Type from "typebox";

/**
 * The small shapes every part of the API contract shares. Nothing in `src/api/` imports Node or
 * Fastify: a browser bundle of the client SDK imports these schemas as they are.
 */

/** An upload id: a UUID (v7). */
export const UploadId = Type.String({
  pattern: "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$",
  description: "An upload id (a UUIDv7).",
});

export const OwnerType = Type.String({
  pattern: "^[a-z][a-z0-9_]{0,63}$",
  description: "An owner type, e.g. avatar.",
});

/** An application-side id (room, thread, …). Plain characters only: it may become part of a key. */
export const OwnerId = Type.String({
  pattern: "^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,127}$",
  description: "Letters, digits, '_', '-', '.'; not starting with '.'.",
});

/** The key an upload is served from (as presign answered it). */
export const ObjectKey = Type.String({ minLength: 1, maxLength: 1024, description: "An object key, as presign answered it." });

/** Every time on the wire: an ISO 8601 string in UTC, e.g. `2026-12-05T16:09:36.000Z`. */
export const Timestamp = Type.String({ format: "date-time", description: "ISO 8601, UTC." });

/** A byte count: a whole number up to 2^53 − 1. */
export const ByteCount = Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER });

/**
 * `Content-MD5` (RFC 1864): the base64 of a body's 16-byte MD5 digest, always 24 characters
 * ending in `==`. The pattern is exported for the service's own checks.
 */
export const CONTENT_MD5_PATTERN = "^[A-Za-z0-9+/]{22}==$";
export const ContentMd5 = Type.String({
  pattern: CONTENT_MD5_PATTERN,
  description: "Base64 of the body's 16-byte MD5 digest (the Content-MD5 header's value), e.g. XUFAKrxLKna5cZ2REBfFkg== for the 5 bytes `hello`.",
});

/** Headers (or form fields) a client must send exactly as given. */
export const StringMap = Type.Record(Type.String(), Type.String());

export const UploadIdParams = Type.Object({ id: UploadId }, { additionalProperties: false });

/**
 * The one error type of Stowage. Every failure a caller can see carries a stable `code`;
 * the HTTP status comes from one table ({@link statusOf}), never from the throw site.
 *
 * @example
 * throw new StowageError("QUOTA_EXCEEDED", "This upload would exceed your storage quota.", {
 *   details: { usedBytes, limitBytes, rejectedBytes },
 * });
 */

/** Stable error codes, mapped to their HTTP status. Codes are API: never rename one. */
export const ERROR_STATUS = {
  INVALID_REQUEST: 400,
  UNKNOWN_OWNER_TYPE: 400,
  OWNER_ID_REQUIRED: 400,
  INCOMPLETE_BODY: 400,
  /** The body's MD5 is not the `Content-MD5` it was sent with (S3's `BadDigest`): nothing was stored. */
  BAD_DIGEST: 400,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  /** An upload link has as many live uploads as its `maxUses`. */
  LINK_USED_UP: 403,
  SIGNATURE_MISMATCH: 403,
  URL_EXPIRED: 403,
  NOT_FOUND: 404,
  REQUEST_TIMEOUT: 408,
  UPLOAD_NOT_CONFIRMED: 409,
  UPLOAD_NOT_PENDING: 409,
  RETENTION_ACTIVE: 409,
  ATTACH_CONFLICT: 409,
  UPLOAD_CHANGED: 409,
  UPLOAD_GONE: 410,
  /** An upload link past its expiry: every request made with its token. */
  LINK_EXPIRED: 410,
  /** An upload link its creator revoked: every request made with its token. */
  LINK_REVOKED: 410,
  LENGTH_REQUIRED: 411,
  OBJECT_EXISTS: 412,
  FILE_TOO_LARGE: 413,
  QUOTA_EXCEEDED: 413,
  BODY_TOO_LARGE: 413,
  URI_TOO_LONG: 414,
  RANGE_NOT_SATISFIABLE: 416,
  CONTENT_TYPE_NOT_ALLOWED: 415,
  CONTENT_TYPE_MISMATCH: 415,
  UNSUPPORTED_MEDIA_TYPE: 415,
  UPLOAD_NOT_FOUND: 422,
  SIZE_MISMATCH: 422,
  /** The virus scanner found something: the bytes were deleted, nothing was served. */
  UPLOAD_INFECTED: 422,
  /** Larger than the scanner takes (clamd's StreamMaxLength): refused, never served unscanned. */
  FILE_TOO_LARGE_TO_SCAN: 422,
  RATE_LIMITED: 429,
  TOO_MANY_PENDING_UPLOADS: 429,
  HEADERS_TOO_LARGE: 431,
  INTERNAL: 500,
  DATABASE_UNAVAILABLE: 503,
  STORAGE_UNAVAILABLE: 503,
  /** A request that reached an instance draining for shutdown: another instance will answer it. */
  SHUTTING_DOWN: 503,
} as const satisfies Record<string, number>;

export type ErrorCode = keyof typeof ERROR_STATUS;

export interface StowageErrorOptions {
  details?: Record<string, unknown>;
  cause?: unknown;
}

export class StowageError extends Error {
  override readonly name = "StowageError";
  readonly code: ErrorCode;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, options: StowageErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.details = options.details;
  }

  get status(): number {
    return statusOf(this.code);
  }
}

export function statusOf(code: ErrorCode): number {
  return ERROR_STATUS[code];
}

export function isStowageError(value: unknown): value is StowageError {
  return value instanceof StowageError;
}

/** A configuration problem found at start-up; lists every bad setting at once. */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
  readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.problems = problems;
  }
}

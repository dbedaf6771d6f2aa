/**
 * What went wrong, in one class:
 * - `refused`: the server or the store said no (a 4xx): do not retry, tell the person why
 *   (`code` is the server's stable code, `details` its figures, e.g. `usedBytes`/`limitBytes`);
 * - `network`: no answer, a stalled transfer, or the server kept failing (5xx) through every retry;
 * - `configuration`: the deployment is set up wrong (e.g. a bucket's CORS hides `ETag`); `message`
 *   names the fix;
 * - `aborted`: the caller's signal stopped the upload (`code` `ABORTED`, or `PAUSED` when it can
 *   be resumed).
 */
export type StowageErrorKind = "refused" | "network" | "configuration" | "aborted";

export interface ClientErrorOptions extends ErrorOptions {
  status?: number | undefined;
  details?: Record<string, unknown> | undefined;
  uploadId?: string | undefined;
}

export class StowageClientError extends Error {
  override readonly name = "StowageClientError";
  readonly kind: StowageErrorKind;
  /** The server's error code (`QUOTA_EXCEEDED`, `FILE_TOO_LARGE`, …) or the client's own. */
  readonly code: string;
  /** The HTTP status, when an answer came. */
  readonly status: number | undefined;
  readonly details: Record<string, unknown> | undefined;
  /** The upload this happened to, once the server had made one (to show, retry or delete it). */
  readonly uploadId: string | undefined;

  constructor(
    kind: StowageErrorKind,
    code: string,
    message: string,
    options: ClientErrorOptions = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.kind = kind;
    this.code = code;
    this.status = options.status;
    this.details = options.details;
    this.uploadId = options.uploadId;
  }

  /** The same error, naming the upload it happened to. */
  forUpload(uploadId: string | undefined): StowageClientError {
    if (uploadId === undefined || this.uploadId !== undefined) return this;
    const { kind, code, message, status, details, cause } = this;
    return new StowageClientError(kind, code, message, { status, details, cause, uploadId });
  }
}

export function isStowageClientError(value: unknown): value is StowageClientError {
  return value instanceof StowageClientError;
}

/** A store's refusal (S3's XML `<Code>`, Stowage's own JSON error) as a client error. */
export function refusalOf(status: number, text: string, what: string): StowageClientError {
  const json = parseJsonError(text);
  if (json !== undefined) return new StowageClientError("refused", json.code, json.message, { status, details: json.details });
  const xmlCode = /<Code>([^<]+)<\/Code>/.exec(text)?.[1];
  const xmlMessage = /<Message>([^<]*)<\/Message>/.exec(text)?.[1];
  const code = xmlCode === undefined ? `HTTP_${status}` : storeCode(xmlCode);
  const message = xmlMessage !== undefined && xmlMessage !== "" ? xmlMessage : `The store refused ${what} (${xmlCode ?? `HTTP ${status}`}).`;
  return new StowageClientError("refused", code, message, { status, details: xmlCode === undefined ? undefined : { storeCode: xmlCode } });
}

/** S3's CamelCase codes in the server's style: `BadDigest` → `BAD_DIGEST`. */
function storeCode(code: string): string {
  return code.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toUpperCase();
}

export function parseJsonError(text: string): { code: string; message: string; details?: Record<string, unknown> } | undefined {
  try {
    const body = JSON.parse(text) as { error?: { code?: unknown; message?: unknown; details?: unknown } };
    const error = body.error;
    if (error === undefined || typeof error.code !== "string") return undefined;
    return {
      code: error.code,
      message: typeof error.message === "string" ? error.message : error.code,
      ...(typeof error.details === "object" && error.details !== null ? { details: error.details as Record<string, unknown> } : {}),
    };
  } catch {
    return undefined;
  }
}

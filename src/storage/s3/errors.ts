import { StowageError } from "../../errors.js";

interface SdkError {
  name?: string;
  code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
}

const NETWORK_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH"]);

function statusOf(error: unknown): number | undefined {
  return (error as SdkError | undefined)?.$metadata?.httpStatusCode;
}

export function isMissing(error: unknown): boolean {
  const name = (error as SdkError | undefined)?.name;
  return name === "NotFound" || name === "NoSuchKey" || statusOf(error) === 404;
}

export function isPreconditionFailed(error: unknown): boolean {
  const name = (error as SdkError | undefined)?.name;
  return name === "PreconditionFailed" || statusOf(error) === 412;
}

/** The store found the body's MD5 is not its Content-MD5 (nothing was stored). */
export function isBadDigest(error: unknown): boolean {
  return (error as SdkError | undefined)?.name === "BadDigest";
}

/** Whether an error means the store could not be reached or answered 5xx (worth a retry later). */
export function isUnavailable(error: unknown): boolean {
  const e = error as SdkError | undefined;
  const status = statusOf(error);
  return (
    (status !== undefined && status >= 500) ||
    NETWORK_CODES.has(e?.code ?? "") ||
    e?.name === "TimeoutError" ||
    e?.name === "RequestTimeout" ||
    /socket hang up|ECONNREFUSED|connect ETIMEDOUT/.test(e?.message ?? "")
  );
}

/**
 * A store failure as the API shows it. Unreachable stores, 5xx and refused credentials all
 * become 503 STORAGE_UNAVAILABLE (the caller can retry; the operator sees the cause in the
 * log); anything else is a bug and stays one.
 */
export function toStorageError(error: unknown, action: string): StowageError | Error {
  if (error instanceof StowageError) return error;
  const status = statusOf(error);
  if (isUnavailable(error) || status === 403 || status === 401) {
    return new StowageError("STORAGE_UNAVAILABLE", `Object storage is not available (could not ${action}).`, { cause: error });
  }
  return error instanceof Error ? error : new Error(String(error));
}

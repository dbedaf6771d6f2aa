interface SdkError {
  name?: string;
  code?: string;
  message?: string;
  cause?: unknown;
  $metadata?: { httpStatusCode?: number };
}

/**
 * One line saying what went wrong with an S3 call, for operators reading CLI output: the HTTP
 * status and S3 error code, the store's message, and a hint for refused credentials.
 *
 * The SDK's errors are terse in the wrong places: a refused HEAD has no body, so its `name`
 * is just the status (`403`, `NotFound`) and its message `UnknownError`; and the drivers wrap
 * failures as `STORAGE_UNAVAILABLE` with the SDK error as `cause`. Both are unwrapped here.
 *
 * @example
 * describeS3Error(error) // "HTTP 403 SignatureDoesNotMatch (check the access key and secret …)"
 */
export function describeS3Error(error: unknown): string {
  const parts: string[] = [];
  let current: unknown = error;
  // Walk the cause chain: the wrapper says what we were doing, the cause what the store said.
  for (let depth = 0; current !== undefined && depth < 4; depth++) {
    parts.push(describeOne(current as SdkError));
    current = (current as SdkError | null)?.cause;
  }
  return parts.filter((p, i) => p !== "" && parts.indexOf(p) === i).join(": ");
}

function describeOne(error: SdkError): string {
  if (error === null || typeof error !== "object") return String(error);
  const status = error.$metadata?.httpStatusCode;
  const name = error.name ?? "";
  const words: string[] = [];
  if (status !== undefined) words.push(`HTTP ${status}`);
  // `Error`, `StowageError` and bare status names add nothing.
  if (name !== "" && !/^(Error|StowageError|\d{3}|Unknown|UnknownError)$/.test(name)) words.push(name);
  if (error.code !== undefined && error.code !== name) words.push(error.code);
  const message = error.message ?? "";
  let text = words.join(" ");
  if (message !== "" && message !== "UnknownError" && message !== name) text = text === "" ? message : `${text} ${message}`;
  if (status === 403 || status === 401) {
    text += " (check the access key and secret: STOWAGE_S3_ACCESS_KEY_ID / STOWAGE_S3_SECRET_ACCESS_KEY, or R2_* / MINIO_*; and that they may use this bucket)";
  }
  return text;
}

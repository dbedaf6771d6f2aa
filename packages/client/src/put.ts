import { refusalOf, StowageClientError } from "./errors.js";
import { backoffMs, isRetryableStatus, retryAfterMs, type RetrySettings, sleep } from "./retry.js";
import type { ByteRange } from "./source.js";
import { StallError, type PutResponse, type Transport } from "./transport.js";

/** Where to PUT: a presigned URL and the exact headers it was signed with. */
export interface PutTarget {
  url: string;
  headers: Record<string, string>;
}

/**
 * PUTs one body, retrying on its own: network failures, stalls, 5xx, 408 and 429 (after
 * `Retry-After`) with backoff; a 403 is answered by signing the URL again where `sign` can (an
 * expired part URL), then retried. Any other refusal ends it at once.
 */
export async function putWithRetry(options: {
  transport: Transport;
  sign: (again: boolean) => Promise<PutTarget>;
  canResign: boolean;
  body: ByteRange;
  signal: AbortSignal;
  retry: RetrySettings;
  onProgress(loaded: number): void;
  /** What is being sent, for messages: "the file", "part 3". */
  what: string;
  onRetry?: (attempt: number, reason: string) => void;
}): Promise<PutResponse> {
  const { retry, signal } = options;
  let target = await options.sign(false);
  for (let attempt = 0; ; attempt += 1) {
    let response: PutResponse;
    try {
      response = await options.transport({
        url: target.url,
        headers: target.headers,
        body: options.body,
        signal,
        stallTimeoutMs: retry.stallTimeoutMs,
        onProgress: options.onProgress,
      });
    } catch (error) {
      if (signal.aborted) throw signal.reason;
      const stalled = error instanceof StallError;
      if (attempt >= retry.retries) {
        throw new StowageClientError(
          "network",
          stalled ? "STALLED" : "NETWORK_ERROR",
          stalled
            ? `Uploading ${options.what} made no progress for ${retry.stallTimeoutMs / 1000} s, ${attempt + 1} times.`
            : `Uploading ${options.what} failed ${attempt + 1} times: the network or the store could not be reached.`,
          { cause: error },
        );
      }
      options.onProgress(0);
      options.onRetry?.(attempt + 1, stalled ? "stalled" : "network");
      await sleep(backoffMs(attempt + 1, retry), signal);
      continue;
    }
    if (response.status >= 200 && response.status < 300) return response;
    options.onProgress(0);
    if (response.status === 403 && options.canResign && attempt < retry.retries) {
      options.onRetry?.(attempt + 1, "re-signing an expired URL");
      target = await options.sign(true);
      continue;
    }
    if (isRetryableStatus(response.status) && attempt < retry.retries) {
      options.onRetry?.(attempt + 1, `HTTP ${response.status}`);
      await sleep(backoffMs(attempt + 1, retry, retryAfterMs(response.header("retry-after"))), signal);
      continue;
    }
    const refusal = refusalOf(response.status, response.text, options.what);
    if (response.status >= 500) throw new StowageClientError("network", refusal.code, refusal.message, { status: response.status });
    throw refusal;
  }
}

import { milliseconds, wholeNumber } from "./option-checks.js";

/** When and how often a failed request is tried again. */
export interface RetryOptions {
  /** Further tries after the first (default 5). */
  retries?: number;
  /** The first wait (default 300 ms); it doubles each time, with jitter. */
  minDelayMs?: number;
  /** The longest wait between tries (default 20 s). */
  maxDelayMs?: number;
  /** A transfer with no progress for this long is cut and retried (default 30 s). */
  stallTimeoutMs?: number;
}

export type RetrySettings = Required<RetryOptions>;

export function retrySettings(options: RetryOptions | undefined): RetrySettings {
  return {
    retries: wholeNumber("retry.retries", options?.retries, 0) ?? 5,
    minDelayMs: milliseconds("retry.minDelayMs", options?.minDelayMs) ?? 300,
    maxDelayMs: milliseconds("retry.maxDelayMs", options?.maxDelayMs) ?? 20_000,
    stallTimeoutMs: milliseconds("retry.stallTimeoutMs", options?.stallTimeoutMs) ?? 30_000,
  };
}

/** Answers worth another try: the server or the way to it failed, or asked to slow down. */
export function isRetryableStatus(status: number): boolean {
  return status >= 500 || status === 429 || status === 408;
}

/**
 * How long to wait before try `attempt` (1-based): exponential with "equal jitter" (half fixed,
 * half random, so many clients failing at once do not retry in step), never less than what the
 * server asked for in `Retry-After`.
 */
export function backoffMs(attempt: number, settings: RetrySettings, retryAfter?: number, random = Math.random): number {
  const ceiling = Math.min(settings.maxDelayMs, settings.minDelayMs * 2 ** (attempt - 1));
  const delay = ceiling / 2 + random() * (ceiling / 2);
  return retryAfter === undefined ? delay : Math.max(delay, Math.min(retryAfter, 10 * settings.maxDelayMs));
}

/** `Retry-After` in milliseconds: seconds or an HTTP date; `undefined` when absent or unreadable. */
export function retryAfterMs(header: string | null | undefined, now = Date.now()): number | undefined {
  if (header === null || header === undefined || header.trim() === "") return undefined;
  if (/^\d+$/.test(header.trim())) return Number(header.trim()) * 1000;
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** Waits, or rejects with the signal's reason as soon as it aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

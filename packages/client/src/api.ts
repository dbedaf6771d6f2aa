import { parseJsonError, StowageClientError } from "./errors.js";
import { backoffMs, isRetryableStatus, retryAfterMs, type RetrySettings, sleep } from "./retry.js";
import { anySignal } from "./signals.js";

export interface ApiOptions {
  baseUrl: string;
  /** Called before each request, so a refreshed token is always the one sent. */
  getToken: () => string | Promise<string>;
  /** How a request authenticates (default `Bearer <token>`). */
  authorization?: (token: string) => string;
  fetch?: typeof fetch;
  retry: RetrySettings;
  /** How long one try of a call may take, its answer's body included (0: no limit). */
  timeoutMs: number;
}

/**
 * Stowage's JSON API. Every call is retried on a network failure, a timeout, a 5xx, 408 or 429
 * (after `Retry-After`), never on another refusal: the server's calls are idempotent (confirm,
 * signing parts, complete, delete) or harmless to repeat (a presign whose answer was lost only
 * holds its reservation until its URL expires).
 *
 * Each try has `timeoutMs` to answer in full: fetch has no timeout of its own, so a server or a
 * proxy that took the connection and then went quiet would hold a presign or a confirm forever.
 */
export class Api {
  readonly baseUrl: string;
  readonly #options: ApiOptions;

  constructor(options: ApiOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, "");
    this.#options = options;
  }

  async call<T>(method: string, path: string, options: { body?: unknown; signal?: AbortSignal | undefined } = {}): Promise<T> {
    const { retry, timeoutMs } = this.#options;
    const doFetch = this.#options.fetch ?? fetch;
    for (let attempt = 0; ; attempt += 1) {
      const token = await this.#options.getToken();
      const headers: Record<string, string> = {
        accept: "application/json",
        authorization: this.#options.authorization?.(token) ?? `Bearer ${token}`,
      };
      if (options.body !== undefined) headers["content-type"] = "application/json";
      const timeout = new AbortController();
      const timer = timeoutMs > 0
        ? setTimeout(() => timeout.abort(new DOMException(`No answer within ${timeoutMs / 1000} s.`, "TimeoutError")), timeoutMs)
        : undefined;
      let response: Response;
      let text: string;
      try {
        response = await doFetch(`${this.baseUrl}${path}`, {
          method,
          headers,
          ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
          signal: anySignal([options.signal, timeout.signal]),
        });
        // Read under the same timeout: an answer whose body stops half-way is no answer.
        text = await response.text();
      } catch (error) {
        if (options.signal?.aborted) throw options.signal.reason;
        if (attempt >= retry.retries) {
          throw timeout.signal.aborted
            ? new StowageClientError("network", "TIMEOUT", `${method} ${path} had no answer within ${timeoutMs / 1000} s, ${attempt + 1} times.`, { cause: error })
            : new StowageClientError("network", "NETWORK_ERROR", `Could not reach ${this.baseUrl} (${method} ${path}).`, { cause: error });
        }
        await sleep(backoffMs(attempt + 1, retry), options.signal);
        continue;
      } finally {
        clearTimeout(timer);
      }
      if (response.ok) return (text === "" ? undefined : JSON.parse(text)) as T;
      if (isRetryableStatus(response.status) && attempt < retry.retries) {
        await sleep(backoffMs(attempt + 1, retry, retryAfterMs(response.headers.get("retry-after"))), options.signal);
        continue;
      }
      const error = parseJsonError(text);
      const kind = response.status >= 500 ? "network" : "refused";
      throw new StowageClientError(kind, error?.code ?? `HTTP_${response.status}`, error?.message ?? `${method} ${path} answered ${response.status}.`, {
        status: response.status,
        details: error?.details,
      });
    }
  }
}

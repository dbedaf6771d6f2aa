import { Api } from "./api.js";
import type { DownloadAnswer, PolicyList, PolicyView, QuotaAnswer, Upload, UploadPage } from "./contract.js";
import { isStowageClientError } from "./errors.js";
import type { Md5 } from "./md5.js";
import { milliseconds, wholeNumber } from "./option-checks.js";
import type { ResumeStore } from "./resume.js";
import { type RetryOptions, retrySettings } from "./retry.js";
import type { UploadSource } from "./source.js";
import type { Transport } from "./transport.js";
import { runUpload, type UploadOptions, type UploadResult } from "./upload.js";

export interface ClientOptions {
  /** Where Stowage answers, e.g. `https://uploads.example.com` (or `""` for the page's own origin). */
  baseUrl: string;
  /** The caller's token, asked for before each request (so a refreshed one is used). */
  getToken: () => string | Promise<string>;
  /**
   * The `Authorization` header a token makes (default `Bearer <token>`). An upload link's
   * holder sends its token in a scheme of its own.
   *
   * @example
   * createClient({ baseUrl, getToken: () => linkToken, authorization: (token) => `UploadLink ${token}` });
   */
  authorization?: (token: string) => string;
  /** Retries of API calls and transfers (defaults: 5 tries after the first, 300 ms doubling, 30 s stall). */
  retry?: RetryOptions;
  /**
   * How long one try of an API call (presign, signing parts, complete, confirm, get, list…) may
   * take, its answer's body included, before it is cut and tried again like a network failure
   * (`TIMEOUT` once every try timed out). Default 30 s; 0 turns it off. The caller's `signal`
   * still stops a call at once. Transfers have no such limit (a big part may take minutes): they
   * are cut when they stall (`retry.stallTimeoutMs`).
   *
   * @example
   * createClient({ baseUrl, getToken, apiTimeoutMs: 10_000 }); // a flaky mobile network: give up on a try sooner
   */
  apiTimeoutMs?: number;
  /** Parts sent at once (default 4). */
  concurrency?: number;
  /** Where unfinished multipart uploads are remembered (default: `localStorage` in browsers, memory in Node). */
  resumeStore?: ResumeStore;
  /** How bodies are sent (default: XHR in browsers, fetch elsewhere). */
  transport?: Transport;
  /** How MD5s are computed (default: the platform's fastest). */
  md5?: Md5;
  fetch?: typeof fetch;
}

export interface StowageClient<Input> {
  /** Uploads one file and resolves once the server has verified and recorded it. */
  upload(input: Input, options: UploadOptions): Promise<UploadResult>;
  get(id: string): Promise<Upload>;
  /** Every upload of the caller, newest first, page after page as the loop asks for them. */
  list(query?: { ownerType?: string; pageSize?: number }): AsyncIterable<Upload>;
  delete(id: string): Promise<void>;
  quota(): Promise<QuotaAnswer>;
  downloadUrl(id: string): Promise<DownloadAnswer>;
  /** The owner types this caller may upload to, with their limits (cached). */
  policies(): Promise<PolicyView[]>;
}

/** What a platform brings: how inputs become sources, and its defaults. */
export interface Platform<Input> {
  toSource(input: Input): Promise<UploadSource>;
  transport: Transport;
  md5: Md5;
  resumeStore(): ResumeStore;
}

/** Long enough for a confirm that sniffs a large object on a slow store; short of "forever". */
export const DEFAULT_API_TIMEOUT_MS = 30_000;

export function clientFor<Input>(platform: Platform<Input>, options: ClientOptions): StowageClient<Input> {
  const retry = retrySettings(options.retry);
  const concurrency = wholeNumber("concurrency", options.concurrency, 1) ?? 4;
  const apiTimeoutMs = milliseconds("apiTimeoutMs", options.apiTimeoutMs) ?? DEFAULT_API_TIMEOUT_MS;
  const api = new Api({
    baseUrl: options.baseUrl,
    getToken: options.getToken,
    retry,
    timeoutMs: apiTimeoutMs,
    ...(options.authorization === undefined ? {} : { authorization: options.authorization }),
    ...(options.fetch === undefined ? {} : { fetch: options.fetch }),
  });
  const resume = options.resumeStore ?? platform.resumeStore();
  let policies: Promise<PolicyView[]> | undefined;
  const listPolicies = () => {
    policies ??= api.call<PolicyList>("GET", "/v1/policies").then((answer) => answer.items);
    // A failed fetch is not kept: the next call asks again.
    policies.catch(() => (policies = undefined));
    return policies;
  };
  const enc = encodeURIComponent;
  return {
    async upload(input, uploadOptions) {
      wholeNumber("concurrency", uploadOptions.concurrency, 1);
      const source = await platform.toSource(input);
      return runUpload(
        {
          api,
          transport: options.transport ?? platform.transport,
          md5: options.md5 ?? platform.md5,
          resume,
          retry: uploadOptions.retry === undefined ? retry : retrySettings({ ...options.retry, ...uploadOptions.retry }),
          concurrency,
          policy: async (ownerType) => {
            try {
              return (await listPolicies()).find((p) => p.ownerType === ownerType);
            } catch (error) {
              // A server without the list: the presign checks the same rules.
              if (isStowageClientError(error) && error.status === 404) return undefined;
              throw error;
            }
          },
        },
        source,
        uploadOptions,
      );
    },
    get: (id) => api.call<Upload>("GET", `/v1/uploads/${enc(id)}`),
    async* list(query = {}) {
      let cursor: string | null = null;
      do {
        const params = new URLSearchParams();
        if (query.ownerType !== undefined) params.set("ownerType", query.ownerType);
        if (query.pageSize !== undefined) params.set("limit", String(query.pageSize));
        if (cursor !== null) params.set("cursor", cursor);
        const page: UploadPage = await api.call<UploadPage>("GET", `/v1/uploads${params.size > 0 ? `?${params}` : ""}`);
        yield* page.items;
        cursor = page.nextCursor;
      } while (cursor !== null);
    },
    delete: async (id) => {
      await api.call("DELETE", `/v1/uploads/${enc(id)}`);
    },
    quota: () => api.call<QuotaAnswer>("GET", "/v1/quota"),
    downloadUrl: (id) => api.call<DownloadAnswer>("GET", `/v1/uploads/${enc(id)}/download`),
    policies: listPolicies,
  };
}

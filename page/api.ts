import {
  type BrowserInput,
  createClient,
  isStowageClientError,
  type StowageClient,
  type StowageClientError,
} from "../packages/client/src/index.js";

export type { PolicyView, QuotaAnswer, Upload, UploadProgress, UploadResult } from "../packages/client/src/index.js";
export { isStowageClientError, type StowageClientError };

/** The page's client: the SDK itself, as a customer's app holds it. */
export type Stowage = StowageClient<BrowserInput>;

export interface ConnectOptions {
  /** The API's origin: the page's own. */
  baseUrl: string;
  token: string;
  /** Whether `token` is an upload link's: it goes as `Authorization: UploadLink <token>`, not `Bearer`. */
  link: boolean;
  fetch: typeof fetch;
}

/**
 * The SDK set up the way the README tells an app to: the API's origin and the signed-in token
 * (or the upload link's). Everything else is the SDK's default in a browser: XHR (upload
 * progress), WebAssembly MD5 for Content-MD5, unfinished multipart uploads remembered in
 * `localStorage`, retries with backoff.
 */
export function connect(options: ConnectOptions): Stowage {
  return createClient({
    baseUrl: options.baseUrl,
    getToken: () => options.token,
    ...(options.link ? { authorization: (token: string) => `UploadLink ${token}` } : {}),
    // No cache bypass here: the API answers `Cache-Control: no-store` (one token's answer, a
    // revoked link's 410, must never answer for the next).
    fetch: options.fetch,
  });
}

/** The server refused the token (expired, signed by another secret): the page asks for another. */
export function isSignedOut(error: unknown): error is StowageClientError {
  return isStowageClientError(error) && error.status === 401;
}

const LINK_CLOSED = new Set(["LINK_EXPIRED", "LINK_REVOKED", "LINK_USED_UP"]);

/**
 * The server refused the upload link itself, not the file: expired or revoked (410), every use
 * taken (403), or not a link it knows (401: a wrong, cut-short or unknown token, which it does
 * not tell apart). It takes no more files, whatever is picked.
 */
export function isLinkClosed(error: unknown): error is StowageClientError {
  return isStowageClientError(error) && (error.status === 401 || LINK_CLOSED.has(error.code));
}

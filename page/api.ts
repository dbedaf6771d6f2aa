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
  fetch: typeof fetch;
}

/**
 * The SDK set up the way the README tells an app to: the API's origin and the signed-in token.
 * Everything else is the SDK's default in a browser: XHR (upload progress), WebAssembly MD5 for
 * Content-MD5, unfinished multipart uploads remembered in `localStorage`, retries with backoff.
 */
export function connect(options: ConnectOptions): Stowage {
  return createClient({ baseUrl: options.baseUrl, getToken: () => options.token, fetch: options.fetch });
}

/** The server refused the token (expired, signed by another secret): the page asks for another. */
export function isSignedOut(error: unknown): error is StowageClientError {
  return isStowageClientError(error) && error.status === 401;
}

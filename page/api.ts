import type { ErrorBody, PolicyList, QuotaAnswer } from "../src/api/index.js";

/**
 * What the page asks of the API. A stand-in until the client SDK (`packages/client`) lands: the
 * page then builds this from the SDK's client, and the views, which see only this interface,
 * stay as they are.
 */
export interface StowageApi {
  /** `GET /v1/policies`: the owner types the caller may upload to, and their limits. */
  policies(): Promise<PolicyList>;
  /** `GET /v1/quota`: usage, reservations and the limit. */
  quota(): Promise<QuotaAnswer>;
}

/** An answer other than 2xx: its status and the error body's stable code and message. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;

  constructor(status: number, code: string, message: string) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
  }
}

export interface ApiOptions {
  token: string;
  /** The API's origin; default: the page's own. */
  baseUrl?: string;
  fetch: typeof fetch;
}

/** The API over `fetch`, with a bearer token. */
export function createApi(options: ApiOptions): StowageApi {
  const get = async <T>(path: string): Promise<T> => {
    const response = await options.fetch(`${options.baseUrl ?? ""}${path}`, {
      headers: { authorization: `Bearer ${options.token}`, accept: "application/json" },
    });
    if (response.ok) return (await response.json()) as T;
    const body = (await response.json().catch(() => undefined)) as ErrorBody | undefined;
    throw new ApiError(response.status, body?.error.code ?? "HTTP_ERROR", body?.error.message ?? `The server answered ${response.status}.`);
  };
  return {
    policies: () => get<PolicyList>("/v1/policies"),
    quota: () => get<QuotaAnswer>("/v1/quota"),
  };
}

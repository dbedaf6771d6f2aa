import type { RawResponse } from "./http.js";
import type { TestServer } from "./server.js";

/** A request with `Authorization: UploadLink <token>`, as an upload link's holder sends it. */
export function asHolder(server: TestServer, token: string, method: string, path: string, body?: unknown): Promise<RawResponse> {
  return server.api(method, path, { headers: { authorization: `UploadLink ${token}` }, ...(body === undefined ? {} : { body }) });
}

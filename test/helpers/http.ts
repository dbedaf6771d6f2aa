import { request as httpRequest } from "node:http";
import type { Readable } from "node:stream";

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  json<T = any>(): T;
}

/**
 * A plain HTTP request with full control of the headers (fetch would set or refuse
 * `Content-Length`, which the upload tests need to get wrong on purpose).
 */
export function rawRequest(
  url: string,
  options: {
    method?: string;
    headers?: Record<string, string>;
    body?: Buffer | string | Readable;
  } = {},
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      url,
      { method: options.method ?? "GET", headers: options.headers ?? {} },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("error", reject);
        res.on("end", () => {
          const body = Buffer.concat(chunks);
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body,
            json: () => JSON.parse(body.toString("utf8")),
          });
        });
      },
    );
    req.on("error", reject);
    const { body } = options;
    if (body === undefined) req.end();
    else if (typeof body === "string" || Buffer.isBuffer(body)) req.end(body);
    else body.pipe(req);
  });
}

/** PUTs bytes to a presigned request with exactly its headers, plus any overrides. */
export function putPresigned(
  presigned: { url: string; headers: Record<string, string> },
  body: Buffer | Readable,
  override: Record<string, string | null> = {},
): Promise<RawResponse> {
  const overridden = new Set(Object.keys(override).map((name) => name.toLowerCase()));
  const headers: Record<string, string> = Object.fromEntries(
    Object.entries(presigned.headers).filter(([name]) => !overridden.has(name.toLowerCase())),
  );
  for (const [name, value] of Object.entries(override)) if (value !== null) headers[name] = value;
  return rawRequest(presigned.url, { method: "PUT", headers, body });
}

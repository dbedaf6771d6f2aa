import type { RawResponse } from "./http.js";
import { putPresigned } from "./http.js";
import type { TestServer } from "./server.js";

export interface Presigned {
  id: string;
  key: string;
  url: string;
  method: string;
  headers: Record<string, string>;
  expiresAt: string;
}

/** `POST /v1/uploads` for `body`, asserting nothing: returns the raw answer. */
export function presign(
  server: TestServer,
  user: string,
  input: {
    ownerType?: string;
    contentType: string;
    size: number;
    filename?: string;
    ownerId?: string;
    method?: "PUT" | "POST";
  },
): Promise<RawResponse> {
  return server.api("POST", "/v1/uploads", {
    as: user,
    body: { ownerType: "document", filename: "file.bin", ...input },
  });
}

/** Presign and upload `body` as the client would; throws if either step fails. */
export async function presignAndPut(
  server: TestServer,
  user: string,
  body: Buffer,
  input: { ownerType?: string; contentType: string; filename?: string; ownerId?: string },
): Promise<Presigned> {
  const res = await presign(server, user, { ...input, size: body.length });
  if (res.status !== 201) throw new Error(`presign failed: ${res.status} ${res.body}`);
  const presigned = res.json<Presigned>();
  const put = await putPresigned(presigned, body);
  if (put.status !== 200) throw new Error(`upload failed: ${put.status} ${put.body}`);
  return presigned;
}

export function confirm(server: TestServer, user: string, id: string): Promise<RawResponse> {
  return server.api("POST", `/v1/uploads/${id}/confirm`, { as: user });
}

import type { TestServer } from "./server.js";

/** What a shared behaviour test sees of either surface: an answer, or a refusal's code and field. */
export type Outcome<T> = { ok: true; value: T } | { ok: false; code: string; field?: string; status: number };

export interface SignedPart {
  partNumber: number;
  url: string;
  headers: Record<string, string>;
}

export interface Ticket {
  id: string;
  key: string;
  kind: string;
  /** Null for multipart uploads (GraphQL), absent (REST). */
  url: string;
  headers: Record<string, string>;
  multipart?: { partSize: number; partCount: number; parts: SignedPart[] };
}

export interface Confirmed {
  id: string;
  url: string;
  size: number;
  contentType: string;
}

/** The operations the shared suite runs, by REST or by GraphQL. */
export interface Surface {
  name: string;
  presign(user: string | undefined, input: Record<string, unknown>): Promise<Outcome<Ticket>>;
  confirm(user: string, id: string): Promise<Outcome<Confirmed>>;
  get(user: string, id: string): Promise<Outcome<{ id: string; status: string }>>;
  remove(user: string, id: string): Promise<Outcome<true>>;
  quota(user: string): Promise<Outcome<{ usedBytes: number; reservedBytes: number }>>;
  signParts(user: string, id: string, input: { partNumbers: number[]; contentMd5s?: string[] }): Promise<Outcome<SignedPart[]>>;
}

type Pairs = { name: string; value: string }[];
const headerMap = (headers: Pairs) => Object.fromEntries(headers.map((h) => [h.name, h.value]));
const gqlPart = (p: { partNumber: number; url: string; headers: Pairs }) => ({ ...p, headers: headerMap(p.headers) });

function restOutcome<T>(status: number, body: any, value: (body: any) => T): Outcome<T> {
  if (status < 300) return { ok: true, value: value(body) };
  return { ok: false, code: body.error.code, field: body.error.details?.field, status };
}

export function restSurface(server: TestServer): Surface {
  const call = async <T>(method: string, path: string, user: string | undefined, body: unknown, value: (b: any) => T) => {
    const answer = await server.api(method, path, { ...(user === undefined ? {} : { as: user }), ...(body === undefined ? {} : { body }) });
    return restOutcome(answer.status, answer.body.length === 0 ? {} : answer.json(), value);
  };
  return {
    name: "REST",
    presign: (user, input) =>
      call("POST", "/v1/uploads", user, input, (b) => ({ id: b.id, key: b.key, kind: b.kind, url: b.url, headers: b.headers, multipart: b.multipart })),
    confirm: (user, id) => call("POST", `/v1/uploads/${id}/confirm`, user, undefined, (b) => b),
    get: (user, id) => call("GET", `/v1/uploads/${id}`, user, undefined, (b) => b),
    remove: (user, id) => call("DELETE", `/v1/uploads/${id}`, user, undefined, () => true as const),
    quota: (user) => call("GET", "/v1/quota", user, undefined, (b) => ({ usedBytes: b.usedBytes, reservedBytes: b.reservedBytes })),
    signParts: (user, id, input) => call("POST", `/v1/uploads/${id}/parts`, user, input, (b) => b.parts),
  };
}

/** A GraphQL request as any client sends it; `undefined` user: no token. */
export async function graphql(server: TestServer, user: string | undefined, query: string, variables: Record<string, unknown> = {}) {
  const answer = await server.api("POST", "/graphql", { ...(user === undefined ? {} : { as: user }), body: { query, variables } });
  return { status: answer.status, body: answer.json() as GraphqlBody };
}

export interface GraphqlBody {
  data: any;
  errors?: { message: string; path?: string[]; extensions: { code: string; details?: any } }[];
}

export function graphqlSurface(server: TestServer): Surface {
  type Vars = Record<string, unknown>;
  const call = async <T>(user: string | undefined, query: string, variables: Vars, value: (data: any) => T): Promise<Outcome<T>> => {
    const { status, body } = await graphql(server, user, query, variables);
    const error = body.errors?.[0];
    if (error !== undefined) return { ok: false, code: error.extensions.code, field: error.extensions.details?.field, status };
    return { ok: true, value: value(body.data) };
  };
  return {
    name: "GraphQL",
    presign: (user, fileInfo) => {
      const part = "partNumber url headers { name value }";
      const query = `mutation($f: FileInfo!) { generateUploadUrl(fileInfo: $f) {
        uploadId objectKey kind url headers { name value } multipart { partSize partCount parts { ${part} } } } }`;
      return call(user, query, { f: fileInfo }, ({ generateUploadUrl: t }) => ({
        id: t.uploadId,
        key: t.objectKey,
        kind: t.kind,
        url: t.url,
        headers: headerMap(t.headers),
        ...(t.multipart === null ? {} : { multipart: { ...t.multipart, parts: t.multipart.parts.map(gqlPart) } }),
      }));
    },
    confirm: (user, id) =>
      call(user, "mutation($id: ID) { confirmMediaUpload(uploadId: $id) { success cdnUrl upload { id size contentType } } }", { id }, (d) => ({
        id: d.confirmMediaUpload.upload.id,
        url: d.confirmMediaUpload.cdnUrl,
        size: d.confirmMediaUpload.upload.size,
        contentType: d.confirmMediaUpload.upload.contentType,
      })),
    get: async (user, id) => {
      const outcome = await call(user, "query($id: ID!) { upload(id: $id) { id status } }", { id }, (d) => d.upload);
      // GraphQL reads answer null for what REST calls 404.
      return outcome.ok && outcome.value === null ? { ok: false, code: "NOT_FOUND", status: 200 } : outcome;
    },
    remove: (user, id) => call(user, "mutation($id: ID!) { deleteUpload(id: $id) }", { id }, () => true as const),
    quota: (user) => call(user, "{ quota { usedBytes reservedBytes } }", {}, (d) => d.quota),
    signParts: (user, id, input) =>
      call(
        user,
        "mutation($id: ID!, $n: [Int!]!, $m: [String!]) { signUploadParts(id: $id, partNumbers: $n, contentMd5s: $m) { partNumber url headers { name value } } }",
        { id, n: input.partNumbers, m: input.contentMd5s },
        (d) => d.signUploadParts.map(gqlPart),
      ),
  };
}

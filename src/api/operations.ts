import Type, { type TSchema } from "typebox";
import { ERROR_STATUS, type ErrorCode } from "../errors.js";
import { ErrorBody } from "./error-body.js";
import { CompleteRequest, PresignAnswer, PresignRequest, SignPartsAnswer, SignPartsRequest, UploadPartsAnswer } from "./presign.js";
import { CreatedLink, CreateLinkRequest, LinkIdParams, LinkPage, LinkWithUploads, ListLinksQuery } from "./links.js";
import { UploadIdParams } from "./primitives.js";
import {
  AttachAnswer,
  AttachRequest,
  ConfirmAnswer,
  PolicyList,
  DownloadAnswer,
  DownloadQuery,
  ListUploadsQuery,
  QuotaAnswer,
  Upload,
  UploadPage,
} from "./uploads.js";

/**
 * Every operation of the REST API, once: its path, method, id, summary, tag, request and answer
 * schemas, and the error codes it may answer. The HTTP routes take their schemas from here
 * (validation, serialization, the OpenAPI document), the GraphQL layer and the client SDK their
 * types. Paths are written as Fastify writes them (`:id`); OpenAPI shows `{id}`.
 */

/** Answered by any authenticated `/v1` operation. */
const API = ["INVALID_REQUEST", "UNAUTHENTICATED", "REQUEST_TIMEOUT", "URI_TOO_LONG", "INTERNAL", "DATABASE_UNAVAILABLE"] as const satisfies ErrorCode[];
/** Answered besides to an upload link's holder (its token counted per address, its link gone). */
const LINK = ["RATE_LIMITED", "LINK_EXPIRED", "LINK_REVOKED"] as const satisfies ErrorCode[];
/** Answered by operations that take a JSON body. */
const BODY = ["BODY_TOO_LARGE", "UNSUPPORTED_MEDIA_TYPE"] as const satisfies ErrorCode[];

/** A success answer: a JSON schema, or (for bytes and empty answers) a description with content types. */
type ResponseSchema = TSchema | { description: string; content?: Record<string, { schema: TSchema }> };

interface OperationSpec<S extends OperationSchemas, R extends Record<number, ResponseSchema>> {
  method: "GET" | "POST" | "DELETE" | "PUT" | "HEAD";
  path: string;
  operationId: string;
  summary: string;
  description?: string;
  tag: "uploads" | "links" | "quota" | "health" | "objects";
  /**
   * Who may call it: `user`, with `Authorization: Bearer <JWT>`; `link`, a user or an upload
   * link's holder (`Authorization: UploadLink <token>`); false, anyone.
   */
  auth: false | "user" | "link";
  schema: S;
  /** Success answers by status. */
  responses: R;
  errors: readonly ErrorCode[];
}

interface OperationSchemas {
  body?: TSchema;
  params?: TSchema;
  querystring?: TSchema;
}

/** Builds the Fastify route schema of an operation: validation, serialization and documentation. */
function operation<const S extends OperationSchemas, const R extends Record<number, ResponseSchema>>(spec: OperationSpec<S, R>) {
  return {
    ...spec,
    schema: {
      ...spec.schema,
      operationId: spec.operationId,
      summary: spec.summary,
      ...(spec.description === undefined ? {} : { description: spec.description }),
      tags: [spec.tag],
      ...(spec.auth === false ? {} : { security: spec.auth === "link" ? [{ bearer: [] }, { uploadLink: [] }] : [{ bearer: [] }] }),
      response: { ...described(spec.responses), ...errorResponses(spec.errors) } as R,
    },
  };
}

/** Success answers carry a description in the document ("OK" where their schema has none). */
function described<R extends Record<number, ResponseSchema>>(responses: R): R {
  return Object.fromEntries(Object.entries(responses).map(([status, schema]) => [status, { ...schema, description: (schema as { description?: string }).description ?? "OK" }])) as R;
}

/** The error answers of an operation, one per status, each naming the codes it carries. */
export function errorResponses(codes: readonly ErrorCode[]): Record<number, TSchema> {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of new Set(codes)) {
    const status = ERROR_STATUS[code];
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  return Object.fromEntries(
    [...byStatus].sort(([a], [b]) => a - b).map(([status, list]) => [status, { ...ErrorBody, description: `Codes: ${list.join(", ")}.` }]),
  );
}

const NoContent = Type.Null({ description: "No content." });

/** The local object endpoint's path: the bucket and the object key (which may hold slashes). */
const ObjectParams = Type.Object({
  bucket: Type.String({ maxLength: 63 }),
  "*": Type.String({ maxLength: 1024, description: "The object key." }),
});
/** The signature's query parameters, exactly as the presigned URL carries them. */
const SignedQuery = Type.Object({
  expires: Type.Optional(Type.String({ description: "Unix seconds after which the URL is refused." })),
  signature: Type.Optional(Type.String({ description: "HMAC over the request's scope; absent for a public bucket's GET." })),
  "response-content-disposition": Type.Optional(Type.String()),
  uploadId: Type.Optional(Type.String({ description: "A multipart upload's part (with partNumber)." })),
  partNumber: Type.Optional(Type.String()),
});
/** Object bytes, for the document only: answers stream, requests are read raw. */
const Bytes = (description: string) => ({
  description,
  content: { "application/octet-stream": { schema: Type.String({ format: "binary" }) } },
});
const OBJECT_URL = ["INVALID_REQUEST", "SIGNATURE_MISMATCH", "URL_EXPIRED", "URI_TOO_LONG", "REQUEST_TIMEOUT", "INTERNAL", "STORAGE_UNAVAILABLE"] as const satisfies ErrorCode[];

export const operations = {
  createUpload: operation({
    method: "POST",
    path: "/v1/uploads",
    operationId: "createUpload",
    summary: "Presign an upload",
    description:
      "Checks the owner type's policy and the quota, reserves the declared size, records a pending upload and answers how to upload it: one PUT, a POST form or a multipart plan.",
    tag: "uploads",
    auth: "link",
    schema: { body: PresignRequest },
    responses: { 201: PresignAnswer },
    errors: [
      ...API, ...LINK, ...BODY, "UNKNOWN_OWNER_TYPE", "OWNER_ID_REQUIRED", "FORBIDDEN", "CONTENT_TYPE_NOT_ALLOWED", "FILE_TOO_LARGE",
      "QUOTA_EXCEEDED", "TOO_MANY_PENDING_UPLOADS", "STORAGE_UNAVAILABLE", "LINK_USED_UP",
    ],
  }),
  listUploads: operation({
    method: "GET",
    path: "/v1/uploads",
    operationId: "listUploads",
    summary: "List the caller's uploads, newest first",
    tag: "uploads",
    auth: "user",
    schema: { querystring: ListUploadsQuery },
    responses: { 200: UploadPage },
    errors: API,
  }),
  getUpload: operation({
    method: "GET",
    path: "/v1/uploads/:id",
    operationId: "getUpload",
    summary: "One of the caller's uploads",
    tag: "uploads",
    auth: "link",
    schema: { params: UploadIdParams },
    responses: { 200: Upload },
    errors: [...API, ...LINK, "NOT_FOUND"],
  }),
  confirmUpload: operation({
    method: "POST",
    path: "/v1/uploads/:id/confirm",
    operationId: "confirmUpload",
    summary: "Verify the uploaded object and charge the quota",
    description:
      "Stats and sniffs the object, promotes it to its key and turns the reservation into usage, all or nothing. Idempotent: confirming again answers the same.",
    tag: "uploads",
    auth: "link",
    schema: { params: UploadIdParams },
    responses: { 200: ConfirmAnswer },
    errors: [
      ...API, ...LINK, "NOT_FOUND", "UNKNOWN_OWNER_TYPE", "UPLOAD_NOT_FOUND", "SIZE_MISMATCH", "FILE_TOO_LARGE", "CONTENT_TYPE_MISMATCH", "QUOTA_EXCEEDED",
      "UPLOAD_INFECTED", "FILE_TOO_LARGE_TO_SCAN",
      "UPLOAD_GONE", "UPLOAD_CHANGED", "UPLOAD_NOT_PENDING", "STORAGE_UNAVAILABLE",
    ],
  }),
  signParts: operation({
    method: "POST",
    path: "/v1/uploads/:id/parts",
    operationId: "signUploadParts",
    summary: "Presign parts of a multipart upload (more of them, or again after expiry)",
    tag: "uploads",
    auth: "link",
    schema: { params: UploadIdParams, body: SignPartsRequest },
    responses: { 200: SignPartsAnswer },
    errors: [...API, ...LINK, ...BODY, "NOT_FOUND", "UNKNOWN_OWNER_TYPE", "INVALID_REQUEST", "UPLOAD_NOT_PENDING", "STORAGE_UNAVAILABLE"],
  }),
  listParts: operation({
    method: "GET",
    path: "/v1/uploads/:id/parts",
    operationId: "listUploadParts",
    summary: "The parts a multipart upload already holds (to resume it)",
    description: "After a reload or a crash, a client sends only the parts not listed here, then completes with all the ETags.",
    tag: "uploads",
    auth: "link",
    schema: { params: UploadIdParams },
    responses: { 200: UploadPartsAnswer },
    errors: [...API, ...LINK, "NOT_FOUND", "UPLOAD_NOT_PENDING", "UPLOAD_GONE", "STORAGE_UNAVAILABLE"],
  }),
  completeUpload: operation({
    method: "POST",
    path: "/v1/uploads/:id/complete",
    operationId: "completeUpload",
    summary: "Assemble a multipart upload from its parts' ETags",
    tag: "uploads",
    auth: "link",
    schema: { params: UploadIdParams, body: CompleteRequest },
    responses: { 200: Upload },
    errors: [...API, ...LINK, ...BODY, "NOT_FOUND", "UPLOAD_NOT_PENDING", "UPLOAD_GONE", "STORAGE_UNAVAILABLE"],
  }),
  attachUploads: operation({
    method: "POST",
    path: "/v1/uploads/attach",
    operationId: "attachUploads",
    summary: "Attach confirmed uploads to an application record, all or none",
    tag: "uploads",
    auth: "user",
    schema: { body: AttachRequest },
    responses: { 200: AttachAnswer },
    errors: [...API, ...BODY, "ATTACH_CONFLICT"],
  }),
  downloadUpload: operation({
    method: "GET",
    path: "/v1/uploads/:id/download",
    operationId: "downloadUpload",
    summary: "A short-lived download URL under the original filename",
    tag: "uploads",
    auth: "user",
    schema: { params: UploadIdParams, querystring: DownloadQuery },
    responses: { 200: DownloadAnswer, 302: Type.Null({ description: "With ?redirect=true: Location is the download URL." }) },
    errors: [...API, "NOT_FOUND", "UPLOAD_NOT_CONFIRMED", "STORAGE_UNAVAILABLE"],
  }),
  deleteUpload: operation({
    method: "DELETE",
    path: "/v1/uploads/:id",
    operationId: "deleteUpload",
    summary: "Delete an upload: its bytes, then its record, and give the bytes back",
    description: "204 means the bytes are gone; while the store cannot be reached: 503 and nothing changed. Idempotent.",
    tag: "uploads",
    auth: "link",
    schema: { params: UploadIdParams },
    responses: { 204: NoContent },
    errors: [...API, ...LINK, "NOT_FOUND", "FORBIDDEN", "RETENTION_ACTIVE", "UPLOAD_CHANGED", "STORAGE_UNAVAILABLE"],
  }),
  listPolicies: operation({
    method: "GET",
    path: "/v1/policies",
    operationId: "listPolicies",
    summary: "The owner types the caller may upload, with their limits",
    description: "What a client checks before any byte moves: allowed types, the largest size, whether an ownerId is needed. Nothing secret.",
    tag: "uploads",
    auth: "link",
    schema: {},
    responses: { 200: PolicyList },
    errors: [...API, ...LINK],
  }),
  getQuota: operation({
    method: "GET",
    path: "/v1/quota",
    operationId: "getQuota",
    summary: "The caller's used, reserved and allowed bytes",
    tag: "quota",
    auth: "user",
    schema: {},
    responses: { 200: QuotaAnswer },
    errors: API,
  }),
  createUploadLink: operation({
    method: "POST",
    path: "/v1/upload-links",
    operationId: "createUploadLink",
    summary: "Make an upload link: a token that lets whoever holds it upload for you",
    description:
      "For one owner type, until it expires, up to maxUses uploads at once; its types and size may only narrow the policy's. "
      + "The token is in this answer only: send it as 'Authorization: UploadLink <token>', or hand out the url (the upload page in link mode).",
    tag: "links",
    auth: "user",
    schema: { body: CreateLinkRequest },
    responses: { 201: CreatedLink },
    errors: [...API, ...BODY, "UNKNOWN_OWNER_TYPE", "OWNER_ID_REQUIRED", "FORBIDDEN"],
  }),
  listUploadLinks: operation({
    method: "GET",
    path: "/v1/upload-links",
    operationId: "listUploadLinks",
    summary: "The caller's upload links, newest first",
    tag: "links",
    auth: "user",
    schema: { querystring: ListLinksQuery },
    responses: { 200: LinkPage },
    errors: API,
  }),
  getUploadLink: operation({
    method: "GET",
    path: "/v1/upload-links/:id",
    operationId: "getUploadLink",
    summary: "One of the caller's upload links: its uses so far and the uploads made through it",
    tag: "links",
    auth: "user",
    schema: { params: LinkIdParams },
    responses: { 200: LinkWithUploads },
    errors: [...API, "NOT_FOUND"],
  }),
  revokeUploadLink: operation({
    method: "DELETE",
    path: "/v1/upload-links/:id",
    operationId: "revokeUploadLink",
    summary: "Revoke an upload link",
    description: "Its token stops working at once, and its uploads not yet confirmed are rejected (LINK_REVOKED). Confirmed ones stay. Idempotent.",
    tag: "links",
    auth: "user",
    schema: { params: LinkIdParams },
    responses: { 204: NoContent },
    errors: [...API, "NOT_FOUND"],
  }),
  health: operation({
    method: "GET",
    path: "/healthz",
    operationId: "health",
    summary: "The process is up",
    tag: "health",
    auth: false,
    schema: {},
    responses: { 200: Type.Object({ status: Type.Literal("ok") }) },
    errors: [],
  }),
  ready: operation({
    method: "GET",
    path: "/readyz",
    operationId: "ready",
    summary: "The database and the storage answer",
    tag: "health",
    auth: false,
    schema: {},
    responses: {
      200: Type.Object({
        status: Type.Literal("ready"),
        scanner: Type.Optional(Type.Union([Type.Literal("ok"), Type.Literal("unavailable")], {
          description: "With a virus scanner configured: whether it answers. Unavailable does not make the instance unready: "
            + "uploads of scanned owner types wait in `scanning` until it is back.",
        })),
      }),
    },
    errors: ["DATABASE_UNAVAILABLE", "STORAGE_UNAVAILABLE"],
  }),
  putObject: operation({
    method: "PUT",
    path: "/storage/:bucket/*",
    operationId: "putObject",
    summary: "Upload bytes to a presigned URL (local storage only)",
    description:
      "The embedded default's stand-in for an S3 presigned PUT: send exactly the presign answer's headers and the exact Content-Length. Single use: once the object exists, another PUT gets 412. A Content-MD5 (signed, or sent anyway) is checked against the body as it streams: a mismatch stores nothing and answers 400 BAD_DIGEST.",
    tag: "objects",
    auth: false,
    schema: { params: ObjectParams, querystring: SignedQuery },
    responses: { 200: { description: "Stored; the ETag header names the object (multipart: the part)." } },
    errors: [...OBJECT_URL, "LENGTH_REQUIRED", "OBJECT_EXISTS", "BODY_TOO_LARGE", "INCOMPLETE_BODY", "BAD_DIGEST", "NOT_FOUND", "UPLOAD_GONE"],
  }),
  getObject: operation({
    method: "GET",
    path: "/storage/:bucket/*",
    operationId: "getObject",
    summary: "Download an object (local storage only)",
    description:
      "Public buckets are readable without a signature, private ones only with a signed URL. Serves single byte ranges (206) and If-None-Match (304).",
    tag: "objects",
    auth: false,
    schema: { params: ObjectParams, querystring: SignedQuery },
    responses: {
      200: Bytes("The object, with its recorded Content-Type and Cache-Control."),
      206: Bytes("One byte range of the object."),
      304: { description: "Not modified." },
    },
    errors: [...OBJECT_URL, "NOT_FOUND", "RANGE_NOT_SATISFIABLE"],
  }),
};

export type OperationId = keyof typeof operations;

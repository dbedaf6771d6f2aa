import Type, { type Static } from "typebox";
import { ByteCount, CONTENT_MD5_PATTERN, ContentMd5, OwnerId, OwnerType, StringMap, Timestamp, UploadId } from "./primitives.js";

export const PresignRequest = Type.Object(
  {
    ownerType: OwnerType,
    filename: Type.String({ minLength: 1, maxLength: 1024, description: "Kept in the database only." }),
    contentType: Type.String({ minLength: 3, maxLength: 255 }),
    size: Type.Integer({ minimum: 1, maximum: 5 * 1024 ** 4, description: "Exact size in bytes." }),
    ownerId: Type.Optional(OwnerId),
    method: Type.Optional(Type.Union([Type.Literal("PUT"), Type.Literal("POST")], { description: "POST: a form upload with a signed policy." })),
    contentMd5: Type.Optional(Type.String({
      pattern: CONTENT_MD5_PATTERN,
      description:
        "The whole file's MD5 (base64, as the Content-MD5 header carries it). A single PUT (kind put) signs it into the URL and " +
        "answers it in headers as Content-MD5: the store refuses bytes that do not match (400 BadDigest on S3, BAD_DIGEST on " +
        "local disk) and a PUT without it (403). Refused with method POST (not every store checks a form's MD5). A multipart upload (kind " +
        "multipart) of one part signs it into that part; one of several parts ignores it (the whole file's MD5 says nothing " +
        "of a part) and its part URLs carry none: sign the parts with their own MD5s (contentMd5s, POST /v1/uploads/{id}/parts).",
    })),
  },
  { additionalProperties: false },
);
export type PresignRequest = Static<typeof PresignRequest>;

/** One presigned part of a multipart upload. */
export const SignedPart = Type.Object(
  {
    partNumber: Type.Integer({ minimum: 1, maximum: 10_000 }),
    url: Type.String(),
    method: Type.Literal("PUT"),
    headers: StringMap,
    expiresAt: Timestamp,
  },
  { additionalProperties: false },
);
export type SignedPart = Static<typeof SignedPart>;

export const MultipartPlan = Type.Object(
  {
    partSize: ByteCount,
    partCount: Type.Integer({ minimum: 1, maximum: 10_000 }),
    parts: Type.Array(SignedPart, { description: "The first parts' URLs; sign more with POST /v1/uploads/{id}/parts." }),
  },
  { additionalProperties: false },
);

const common = {
  id: UploadId,
  key: Type.String({ description: "Where the upload is served from once confirmed." }),
  expiresAt: Timestamp,
};

/**
 * What presign hands out, by `kind`: one PUT with exact headers, a POST form, or a multipart
 * plan with its first part URLs (cut the file into `partSize` pieces, then complete).
 */
export const PresignAnswer = Type.Union([
  Type.Object(
    { kind: Type.Literal("put"), ...common, method: Type.Literal("PUT"), url: Type.String(), headers: StringMap },
    { additionalProperties: false },
  ),
  Type.Object(
    { kind: Type.Literal("post"), ...common, method: Type.Literal("POST"), url: Type.String(), headers: StringMap, fields: StringMap },
    { additionalProperties: false },
  ),
  Type.Object(
    { kind: Type.Literal("multipart"), ...common, method: Type.Literal("PUT"), multipart: MultipartPlan },
    { additionalProperties: false },
  ),
]);
export type PresignAnswer = Static<typeof PresignAnswer>;

export const SignPartsRequest = Type.Object(
  {
    partNumbers: Type.Array(Type.Integer({ minimum: 1, maximum: 10_000 }), { minItems: 1, maxItems: 100 }),
    contentMd5s: Type.Optional(
      Type.Array(ContentMd5, {
        minItems: 1,
        maxItems: 100,
        description:
          "Each part's MD5 (base64), in the order of partNumbers and as many: signed into that part's URL and answered in its " +
          "headers as Content-MD5, so the store refuses a corrupted part (400) or one sent without it (403).",
      }),
    ),
  },
  { additionalProperties: false },
);
export type SignPartsRequest = Static<typeof SignPartsRequest>;

export const SignPartsAnswer = Type.Object({ parts: Type.Array(SignedPart) }, { additionalProperties: false });
export type SignPartsAnswer = Static<typeof SignPartsAnswer>;

/** The parts a multipart upload already holds: a client resuming sends only the others. */
export const UploadPartsAnswer = Type.Object(
  {
    partSize: ByteCount,
    partCount: Type.Integer({ minimum: 1, maximum: 10_000 }),
    parts: Type.Array(
      Type.Object(
        { partNumber: Type.Integer({ minimum: 1, maximum: 10_000 }), etag: Type.String(), size: ByteCount },
        { additionalProperties: false },
      ),
      { description: "In part number order; the ETags to complete with." },
    ),
  },
  { additionalProperties: false },
);
export type UploadPartsAnswer = Static<typeof UploadPartsAnswer>;

export const CompletedPart = Type.Object(
  { partNumber: Type.Integer({ minimum: 1, maximum: 10_000 }), etag: Type.String({ minLength: 1, maxLength: 128 }) },
  { additionalProperties: false },
);

export const CompleteRequest = Type.Object(
  { parts: Type.Array(CompletedPart, { minItems: 1, maxItems: 10_000 }) },
  { additionalProperties: false },
);
export type CompleteRequest = Static<typeof CompleteRequest>;

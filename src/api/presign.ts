import Type, { type Static } from "typebox";
import { ByteCount, OwnerId, OwnerType, StringMap, Timestamp, UploadId } from "./primitives.js";

export const PresignRequest = Type.Object(
  {
    ownerType: OwnerType,
    filename: Type.String({ minLength: 1, maxLength: 1024, description: "Kept in the database only." }),
    contentType: Type.String({ minLength: 3, maxLength: 255 }),
    size: Type.Integer({ minimum: 1, maximum: 5 * 1024 ** 4, description: "Exact size in bytes." }),
    ownerId: Type.Optional(OwnerId),
    method: Type.Optional(Type.Union([Type.Literal("PUT"), Type.Literal("POST")], { description: "POST: a form upload with a signed policy." })),
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
  { partNumbers: Type.Array(Type.Integer({ minimum: 1, maximum: 10_000 }), { minItems: 1, maxItems: 100 }) },
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

import Type, { type Static } from "typebox";
import { UPLOAD_STATUSES } from "../uploads/status.js";
import { ByteCount, OwnerType, Timestamp, UploadId } from "./primitives.js";

/** An application record an upload is attached to. */
export const Parent = Type.Object(
  {
    type: Type.String({ pattern: "^[a-z][a-z0-9_]{0,63}$", description: "The application's record type, e.g. message." }),
    id: Type.String({ minLength: 1, maxLength: 128 }),
  },
  { additionalProperties: false },
);

export const UploadStatus = Type.Unsafe<(typeof UPLOAD_STATUSES)[number]>({
  type: "string",
  enum: [...UPLOAD_STATUSES],
  description: "pending → confirmed, or rejected / deleted / expired.",
});

/** A derivative (thumbnail) of an upload, made after confirm from a preset in the server's config. */
export const Derivative = Type.Object(
  {
    name: Type.String({ description: "The preset's name, e.g. thumb." }),
    url: Type.String({ description: "The public/CDN URL, or a short-lived signed one for private owner types." }),
    width: Type.Integer({ minimum: 1 }),
    height: Type.Integer({ minimum: 1 }),
    contentType: Type.String(),
  },
  { additionalProperties: false },
);
export type Derivative = Static<typeof Derivative>;

/** An upload as the API shows it to its owner. */
export const Upload = Type.Object(
  {
    id: UploadId,
    ownerType: Type.String(),
    ownerId: Type.Optional(Type.String()),
    key: Type.String({ description: "Where the upload is served from once confirmed." }),
    filename: Type.String({ description: "The client's filename, sanitized; never part of a key." }),
    contentType: Type.String(),
    size: ByteCount,
    status: UploadStatus,
    createdAt: Timestamp,
    expiresAt: Timestamp,
    confirmedAt: Type.Optional(Timestamp),
    rejection: Type.Optional(Type.Object({ code: Type.String(), reason: Type.String() })),
    parent: Type.Optional(Parent),
    attachedAt: Type.Optional(Timestamp),
    retainUntil: Type.Optional(Timestamp),
    linkId: Type.Optional(Type.String({ description: "The upload link it was made through; absent when its user made it." })),
    derivatives: Type.Optional(
      Type.Array(Derivative, { description: "Images made from this one by the policy's fixed presets, as they become ready." }),
    ),
  },
  { additionalProperties: false },
);
export type Upload = Static<typeof Upload>;

export const ListUploadsQuery = Type.Object(
  {
    ownerType: Type.Optional(OwnerType),
    cursor: Type.Optional(Type.String({ maxLength: 128, description: "nextCursor of the previous page." })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 50 })),
  },
  { additionalProperties: false },
);
export type ListUploadsQuery = Static<typeof ListUploadsQuery>;

export const UploadPage = Type.Object(
  {
    items: Type.Array(Upload),
    nextCursor: Type.Union([Type.String(), Type.Null()], { description: "null on the last page." }),
  },
  { additionalProperties: false },
);
export type UploadPage = Static<typeof UploadPage>;

/** The verdict of confirm: the verified size and type, and where the upload is served. */
export const ConfirmedAnswer = Type.Object(
  {
    id: UploadId,
    status: Type.Literal("confirmed"),
    size: ByteCount,
    contentType: Type.String({ description: "The sniffed type." }),
    url: Type.Optional(
      Type.String({
        description: "The public/CDN URL (public owner types) or a short-lived signed one. Absent for an upload link's holder on a private owner type: it may send, not read.",
      }),
    ),
  },
  { additionalProperties: false },
);

/**
 * Verified, and waiting for the virus scanner (owner types whose policy scans): not served, no
 * URL yet. `upload.scanned` (then `confirmed`) or `upload.infected` follows; `GET` tells too.
 */
export const ScanningAnswer = Type.Object(
  {
    id: UploadId,
    status: Type.Literal("scanning"),
    size: ByteCount,
    contentType: Type.String({ description: "The sniffed type." }),
  },
  { additionalProperties: false },
);

export const ConfirmAnswer = Type.Union([ConfirmedAnswer, ScanningAnswer]);
export type ConfirmAnswer = Static<typeof ConfirmAnswer>;

export const AttachRequest = Type.Object(
  { uploadIds: Type.Array(UploadId, { minItems: 1, maxItems: 100 }), parent: Parent },
  { additionalProperties: false },
);
export type AttachRequest = Static<typeof AttachRequest>;

export const AttachAnswer = Type.Object({ items: Type.Array(Upload) }, { additionalProperties: false });
export type AttachAnswer = Static<typeof AttachAnswer>;

export const DownloadQuery = Type.Object(
  { redirect: Type.Optional(Type.Boolean({ description: "Answer 302 to the URL instead of JSON." })) },
  { additionalProperties: false },
);

export const DownloadAnswer = Type.Object(
  { url: Type.String({ description: "A signed GET with Content-Disposition: attachment." }), expiresAt: Timestamp },
  { additionalProperties: false },
);
export type DownloadAnswer = Static<typeof DownloadAnswer>;

const Usage = {
  usedBytes: ByteCount,
  reservedBytes: Type.Integer({ minimum: 0, description: "Held by uploads in progress until they are confirmed or let go." }),
  limitBytes: ByteCount,
};

export const QuotaAnswer = Type.Object(
  {
    ...Usage,
    pendingUploads: Type.Integer({ minimum: 0 }),
    org: Type.Optional(Type.Object({ id: Type.String(), ...Usage }, { additionalProperties: false })),
  },
  { additionalProperties: false },
);
export type QuotaAnswer = Static<typeof QuotaAnswer>;

/** What a client may check before any byte moves: an owner type the caller may use, and its limits. */
export const PolicyView = Type.Object(
  {
    ownerType: Type.String(),
    allowedTypes: Type.Array(Type.String(), { description: "MIME types; the sniffed type must be one of them." }),
    maxBytes: ByteCount,
    visibility: Type.Unsafe<"public" | "private">({ type: "string", enum: ["public", "private"] }),
    ownerIdRequired: Type.Boolean({ description: "Presign needs an ownerId for this owner type." }),
    multipartThresholdBytes: Type.Union([ByteCount, Type.Null()], { description: "From this size uploads go in parts; null: never." }),
  },
  { additionalProperties: false },
);
export type PolicyView = Static<typeof PolicyView>;

export const PolicyList = Type.Object({ items: Type.Array(PolicyView) }, { additionalProperties: false });
export type PolicyList = Static<typeof PolicyList>;

import Type, { type Static } from "typebox";
import { ByteCount, OwnerId, OwnerType, Timestamp } from "./primitives.js";
import { Upload } from "./uploads.js";

/** A link id: a UUID (v7), like an upload's. */
export const LinkId = Type.String({
  pattern: "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$",
  description: "An upload link id (a UUIDv7).",
});

/** Bounds of a link: a minute to thirty days; one to a thousand uploads. */
export const LINK_MIN_SECONDS = 60;
export const LINK_MAX_SECONDS = 30 * 24 * 3600;
export const LINK_MAX_USES = 1000;

export const CreateLinkRequest = Type.Object(
  {
    ownerType: OwnerType,
    ownerId: Type.Optional(OwnerId),
    expiresInSeconds: Type.Integer({ minimum: LINK_MIN_SECONDS, maximum: LINK_MAX_SECONDS, description: "How long the link works." }),
    maxUses: Type.Integer({ minimum: 1, maximum: LINK_MAX_USES, description: "Uploads through it that may be pending or confirmed at once (rejected or abandoned ones give theirs back)." }),
    maxBytesPerUpload: Type.Optional(Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER, description: "At most the owner type's limit." })),
    allowedTypes: Type.Optional(
      Type.Array(Type.String({ minLength: 3, maxLength: 255 }), { minItems: 1, maxItems: 50, description: "Some of the owner type's types." }),
    ),
    note: Type.Optional(Type.String({ maxLength: 500, description: "For the creator's eyes: what the link was for." })),
  },
  { additionalProperties: false },
);
export type CreateLinkRequest = Static<typeof CreateLinkRequest>;

export const LinkStatus = Type.Union([Type.Literal("active"), Type.Literal("expired"), Type.Literal("revoked"), Type.Literal("used_up")]);

/** A link as its creator sees it; never its token. */
export const UploadLink = Type.Object(
  {
    id: LinkId,
    ownerType: Type.String(),
    ownerId: Type.Union([Type.String(), Type.Null()]),
    maxUses: Type.Integer({ minimum: 1 }),
    uses: Type.Integer({ minimum: 0, description: "Uploads through it that are confirmed, being scanned, or pending with a live URL." }),
    maxBytesPerUpload: ByteCount,
    allowedTypes: Type.Array(Type.String()),
    note: Type.Union([Type.String(), Type.Null()]),
    status: LinkStatus,
    createdAt: Timestamp,
    expiresAt: Timestamp,
    revokedAt: Type.Union([Timestamp, Type.Null()]),
  },
  { additionalProperties: false },
);
export type UploadLink = Static<typeof UploadLink>;

export const CreatedLink = Type.Object(
  {
    ...UploadLink.properties,
    token: Type.String({ description: "Shown this once: send it as 'Authorization: UploadLink <token>'." }),
    url: Type.String({ description: "The upload page in link mode; the token rides in the fragment, which no server sees." }),
  },
  { additionalProperties: false },
);
export type CreatedLink = Static<typeof CreatedLink>;

export const LinkWithUploads = Type.Object(
  {
    ...UploadLink.properties,
    uploads: Type.Array(Upload, { description: "Uploads made through it, newest first (at most 100)." }),
  },
  { additionalProperties: false },
);
export type LinkWithUploads = Static<typeof LinkWithUploads>;

export const LinkPage = Type.Object(
  { items: Type.Array(UploadLink), nextCursor: Type.Union([Type.String(), Type.Null()]) },
  { additionalProperties: false },
);
export type LinkPage = Static<typeof LinkPage>;

export const ListLinksQuery = Type.Object(
  {
    cursor: Type.Optional(Type.String({ maxLength: 128, description: "nextCursor of the previous page." })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 50 })),
  },
  { additionalProperties: false },
);

export const LinkIdParams = Type.Object({ id: LinkId }, { additionalProperties: false });

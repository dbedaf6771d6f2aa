import Type from "typebox";

/** Shared pieces of the route schemas. */

/** An upload id: a UUID (v7). */
export const UploadId = Type.String({ pattern: "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$" });

export const UploadIdParams = Type.Object({ id: UploadId }, { additionalProperties: false });

export const OwnerType = Type.String({
  pattern: "^[a-z][a-z0-9_]{0,63}$",
  description: "An owner type, e.g. avatar.",
});

/** An application-side id (room, thread, …). Plain characters only: it may become part of a key. */
export const OwnerId = Type.String({
  pattern: "^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,127}$",
  description: "Letters, digits, '_', '-', '.'; not starting with '.'.",
});

import type { Upload } from "../api/uploads.js";
import type { UploadRecord } from "./record.js";

/** An upload as the API shows it to its owner (`src/api/uploads.ts`). */
export type UploadView = Upload;

export function toView(upload: UploadRecord): UploadView {
  const view: UploadView = {
    id: upload.id,
    ownerType: upload.ownerType,
    key: upload.key,
    filename: upload.filename,
    contentType: upload.contentType,
    size: upload.size ?? upload.declaredSize,
    status: upload.status,
    createdAt: upload.createdAt.toISOString(),
    expiresAt: upload.expiresAt.toISOString(),
  };
  if (upload.ownerId !== undefined) view.ownerId = upload.ownerId;
  if (upload.confirmedAt !== undefined) view.confirmedAt = upload.confirmedAt.toISOString();
  if (upload.parent !== undefined) view.parent = upload.parent;
  if (upload.attachedAt !== undefined) view.attachedAt = upload.attachedAt.toISOString();
  if (upload.retainUntil !== undefined) view.retainUntil = upload.retainUntil.toISOString();
  if (upload.linkId !== undefined) view.linkId = upload.linkId;
  if (upload.rejectCode !== undefined) {
    view.rejection = { code: upload.rejectCode, reason: upload.rejectReason ?? "" };
  }
  return view;
}

/** Opaque list cursors: the id of the last upload shown. */
export function encodeCursor(id: string): string {
  return Buffer.from(id).toString("base64url");
}

export function decodeCursor(cursor: string): string | undefined {
  const id = Buffer.from(cursor, "base64url").toString();
  return /^[0-9a-f-]{36}$/.test(id) ? id : undefined;
}

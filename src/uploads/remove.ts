import { StowageError } from "../errors.js";
import type { UploadRecord } from "../store/records.js";
import { type Caller, ownUpload, type UploadContext } from "./context.js";
import { finalOf, retireStaging, retireStagingLater } from "./staging.js";

/** Rounds of "the upload changed while it was being deleted, look again" before giving up. */
const ATTEMPTS = 3;

/**
 * Deletes an upload and gives its bytes (or its reservation) back. The bytes go first: a 204
 * means they are gone, and a store that cannot be reached answers 503 STORAGE_UNAVAILABLE with
 * the row unchanged, so the client simply retries. The row then moves to `deleted` guarded on
 * the status the storage step was made for; had it changed meanwhile (a confirm finishing),
 * the round starts again from what it is now. Deleting twice is harmless.
 */
export async function remove(ctx: UploadContext, caller: Caller, id: string): Promise<void> {
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    const upload = await ownUpload(ctx, caller, id);
    if (upload.status === "deleted") return;
    if (upload.status === "expired") throw new StowageError("UPLOAD_GONE", "This upload has already expired.");
    if (upload.retainUntil !== undefined && upload.retainUntil > ctx.now()) {
      throw new StowageError("RETENTION_ACTIVE", `This upload must be kept until ${upload.retainUntil.toISOString()}.`, {
        details: { retainUntil: upload.retainUntil.toISOString() },
      });
    }
    await dropBytes(ctx, upload);
    const deleted = await ctx.store.deleteUpload({ id: upload.id, from: [upload.status], now: ctx.now() });
    if (deleted !== undefined) {
      ctx.observe?.deleted(upload.ownerType, upload.status === "confirmed" ? (upload.size ?? 0) : 0);
      // A confirmed PUT's staging copy still blocks its URL; it becomes an empty object now.
      if (upload.status === "confirmed") await retireStagingLater(ctx, deleted);
      return;
    }
  }
  throw new StowageError("UPLOAD_CHANGED", "This upload kept changing while it was being deleted; try again.");
}

/** What must be gone before the row may say so, by the upload's state. */
async function dropBytes(ctx: UploadContext, upload: UploadRecord): Promise<void> {
  switch (upload.status) {
    case "confirmed":
      await ctx.driver.delete(finalOf(upload));
      return;
    case "pending":
      // Nothing may land after the delete: a multipart upload is aborted, a PUT URL sealed.
      if (upload.multipart !== undefined) await ctx.multipart.abort(upload);
      await retireStaging(ctx, upload);
      return;
    default:
      // Rejected: its objects were dropped when it was refused (retried here in case that failed).
      await retireStaging(ctx, upload);
  }
}

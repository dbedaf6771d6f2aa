import type { Principal } from "../auth/principal.js";
import { StowageError } from "../errors.js";
import type { UploadRecord } from "./record.js";
import { ownUpload, type UploadContext } from "./context.js";
import { canTransition, isAwaitingUpload, isListed, isServable } from "./lifecycle.js";
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
export async function remove(ctx: UploadContext, caller: Principal, id: string): Promise<void> {
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    const upload = await ownUpload(ctx, caller, id);
    // Deleting twice is harmless; an upload the sweeper expired is gone for another reason.
    if (!canTransition(upload.status, "deleted")) {
      if (isListed(upload.status)) throw new StowageError("UPLOAD_GONE", `This upload has already ${upload.status}.`);
      return;
    }
    // A link's holder may abort an upload in progress, never delete what was received.
    if (caller.kind === "link" && !isAwaitingUpload(upload.status)) {
      throw new StowageError("FORBIDDEN", "Through an upload link, only an upload still in progress can be deleted; its sender can delete the rest.");
    }
    if (upload.retainUntil !== undefined && upload.retainUntil > ctx.now()) {
      throw new StowageError("RETENTION_ACTIVE", `This upload must be kept until ${upload.retainUntil.toISOString()}.`, {
        details: { retainUntil: upload.retainUntil.toISOString() },
      });
    }
    await dropBytes(ctx, upload);
    const deleted = await ctx.store.deleteUpload({ id: upload.id, from: [upload.status], now: ctx.now() });
    if (deleted !== undefined) {
      const served = isServable(upload.status);
      ctx.observe?.deleted(upload.ownerType, served ? (upload.size ?? 0) : 0);
      // A confirmed PUT's staging copy still blocks its URL; it becomes an empty object now.
      if (served) await retireStagingLater(ctx, deleted);
      // A derivative recorded between the listing above and this commit: gone too. (One recorded
      // after it sees the upload deleted and removes its own object.)
      if (served) await dropDerivatives(ctx, deleted).catch((error: unknown) => ctx.warn("derivative not deleted; left for the orphan sweep", deleted, error));
      return;
    }
  }
  throw new StowageError("UPLOAD_CHANGED", "This upload kept changing while it was being deleted; try again.");
}

/** What must be gone before the row may say so, by the upload's state. */
async function dropBytes(ctx: UploadContext, upload: UploadRecord): Promise<void> {
  if (isServable(upload.status)) {
    // Derivatives first: should the original's delete fail, the retry finds them again.
    await dropDerivatives(ctx, upload);
    await ctx.driver.delete(finalOf(upload));
    return;
  }
  // Nothing may land after the delete: a multipart upload is aborted, a PUT URL sealed.
  if (isAwaitingUpload(upload.status) && upload.multipart !== undefined) await ctx.multipart.abort(upload);
  // Scanning: its verified bytes wait there. Refused: dropped when refused (retried here in case that failed).
  await retireStaging(ctx, upload);
}

async function dropDerivatives(ctx: UploadContext, upload: UploadRecord): Promise<void> {
  for (const derivative of await ctx.store.derivatives.listFor([upload.id])) {
    if (derivative.state === "ready") await ctx.driver.delete({ bucket: derivative.bucket, key: derivative.key });
  }
}

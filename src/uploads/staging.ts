import type { ObjectRef } from "../storage/driver.js";
import type { UploadRecord } from "./record.js";
import type { UploadContext } from "./context.js";
import { isServable } from "./lifecycle.js";

/**
 * The object a client's URL writes to. Rows from before staging keys (migration 0005) were
 * signed for their final key, which then is their staging place too.
 */
export function stagingOf(upload: UploadRecord): ObjectRef {
  return upload.staging ?? { bucket: upload.bucket, key: upload.key };
}

export function finalOf(upload: UploadRecord): ObjectRef {
  return { bucket: upload.bucket, key: upload.key };
}

export function sameObject(a: ObjectRef, b: ObjectRef): boolean {
  return a.bucket === b.bucket && a.key === b.key;
}

/**
 * Makes a handed-out URL useless once its upload is settled (confirmed, rejected or deleted).
 * A presigned PUT carries `If-None-Match: *`, so while it is still valid the staging key must
 * stay occupied: its object is replaced by an empty one (`seal`), and the staging sweep deletes
 * that once the URL has expired. A multipart upload is over once completed or aborted (its
 * part URLs answer NoSuchUpload), and a POST form cannot be made conditional at all, so their
 * staging objects are simply deleted. Throws when the store cannot be reached.
 */
export async function retireStaging(ctx: UploadContext, upload: UploadRecord): Promise<void> {
  const staging = upload.staging;
  if (staging === undefined) return;
  const final = finalOf(upload);
  // A row from before staging keys whose staging place is its served object: never touch that.
  if (sameObject(staging, final) && isServable(upload.status)) return;
  const stillUsable = upload.method === "put" && upload.expiresAt > ctx.now();
  if (stillUsable) await ctx.driver.seal(staging);
  else await ctx.driver.delete(staging);
}

/** {@link retireStaging}, best effort: a failure is left for the staging sweep and logged. */
export async function retireStagingLater(ctx: UploadContext, upload: UploadRecord): Promise<void> {
  await retireStaging(ctx, upload).catch((error: unknown) => ctx.warn("staging object not retired; left for the sweeper", upload, error));
}

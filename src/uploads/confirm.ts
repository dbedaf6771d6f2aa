import { type ErrorCode, StowageError } from "../errors.js";
import type { UploadRecord } from "./record.js";
import { type ConfirmAnswer, confirmAnswer, settledAnswer } from "./answers.js";
import { chargesOf, notFound, policyOf, quotaExceeded, type UploadContext } from "./context.js";
import { isAwaitingUpload, isScanning, isServable, sourcesOf } from "./lifecycle.js";
import { beginScan } from "./scan.js";
import { subjectKind } from "./observer.js";
import { SNIFF_BYTES, sniff } from "./sniff.js";
import { finalOf, retireStagingLater, sameObject, stagingOf } from "./staging.js";

const DAY_MS = 24 * 3600 * 1000;

/**
 * The server's verdict on an uploaded object: its size from the store and its sniffed type;
 * then it is *promoted*: copied from the staging key the client wrote to onto the upload's own
 * key (server-side; a hard link on local disk), and marked confirmed with its reservation turned
 * into usage, in one transaction. So nothing a client can still write is ever served, and
 * nothing unverified either. A refused object is dropped and the upload marked rejected.
 * Confirming again answers the same.
 */
export async function confirm(ctx: UploadContext, upload: UploadRecord): Promise<ConfirmAnswer> {
  if (!isAwaitingUpload(upload.status)) return settledAnswer(ctx, upload);
  const policy = policyOf(ctx, upload.ownerType);
  const source = stagingOf(upload);

  // One read answers the object's stat and its first bytes, of one version: what is sniffed is
  // what the copy, checked against that ETag, promotes.
  const probe = await ctx.driver.readHead({ ...source, length: SNIFF_BYTES });
  if (probe === undefined) {
    throw new StowageError("UPLOAD_NOT_FOUND", "No object has been uploaded for this upload yet.");
  }
  const { stat } = probe;
  if (stat.size !== upload.declaredSize) {
    return reject(ctx, upload, "SIZE_MISMATCH", `The object has ${stat.size} bytes, not the declared ${upload.declaredSize}.`);
  }
  if (stat.size > policy.maxBytes) {
    return reject(ctx, upload, "FILE_TOO_LARGE", `The file is larger than ${policy.maxBytes} bytes.`);
  }
  const verdict = await sniff(probe.bytes, upload.contentType);
  if (!verdict.ok || !policy.allowedTypes.includes(upload.contentType)) {
    const reason = verdict.ok ? `${upload.contentType} is no longer allowed` : verdict.reason;
    return reject(ctx, upload, "CONTENT_TYPE_MISMATCH", `Refused: ${reason}.`, {
      declared: upload.contentType,
      detected: verdict.detected ?? null,
    });
  }

  if (policy.scan === true) return beginScan(ctx, upload, stat);
  return promote(ctx, upload, stat);
}

/**
 * Copies the verified staging object onto the upload's own key and marks it confirmed, its
 * reservation turned into usage, in one transaction (`scanned`: it comes out of `scanning`,
 * found clean). Only the bytes verified are copied: the source must still have `stat`'s ETag.
 */
export async function promote(
  ctx: UploadContext,
  upload: UploadRecord,
  stat: { size: number; etag: string },
  options: { scanned?: boolean } = {},
): Promise<ConfirmAnswer> {
  const policy = policyOf(ctx, upload.ownerType);
  const source = stagingOf(upload);
  const final = finalOf(upload);
  const promoted = sameObject(source, final)
    ? stat
    : await ctx.driver.copy({
        from: source,
        to: final,
        size: stat.size,
        contentType: upload.contentType,
        cacheControl: policy.cacheControl,
        ifMatch: stat.etag,
      });
  const outcome = await ctx.store.confirmUpload({
    id: upload.id,
    from: sourcesOf("confirmed").filter(options.scanned === true ? isScanning : isAwaitingUpload),
    size: stat.size,
    etag: promoted.etag,
    charges: chargesOf(ctx, upload.userId, upload.orgId),
    retainUntil: policy.retentionDays === undefined ? undefined : new Date(ctx.now().getTime() + policy.retentionDays * DAY_MS),
    scanned: options.scanned,
    lateLink: options.scanned === true ? undefined : lateLinkOf(ctx, upload),
    now: ctx.now(),
  });
  switch (outcome.kind) {
    case "confirmed":
      ctx.observe?.charged(upload.ownerType, stat.size);
      ctx.committed();
      // A completed multipart upload or a POST form can write nothing more that matters: drop
      // its staging copy now. A PUT's stays until its URL expires, keeping `If-None-Match` failing.
      if (upload.method !== "put") await retireStagingLater(ctx, outcome.upload);
      return confirmAnswer(ctx, outcome.upload);
    case "quota-exceeded": {
      ctx.observe?.quotaRefused("confirm", subjectKind(outcome.usage.subject), "bytes");
      const error = quotaExceeded(outcome.usage, stat.size);
      return reject(ctx, upload, "QUOTA_EXCEEDED", error.message, error.details, { promoted: !sameObject(source, final) });
    }
    case "link-used-up":
      return reject(ctx, upload, "LINK_USED_UP", LATE_USE, undefined, { promoted: !sameObject(source, final) });
    case "not-in-state": {
      // A concurrent confirm (or delete) got there first; answer what it decided. A confirm that
      // won made the same copy and keeps it; under any other outcome the copy is nobody's.
      const current = outcome.upload;
      if ((current === undefined || !isServable(current.status)) && !sameObject(source, final)) await dropCopy(ctx, upload);
      if (current === undefined) throw notFound();
      return settledAnswer(ctx, current);
    }
  }
}

/**
 * Marks the upload rejected (its reservation released), drops what it uploaded, and throws the
 * refusal. When another request settled it first, its verdict stands and its objects stay.
 */
export async function reject(
  ctx: UploadContext,
  upload: UploadRecord,
  code: ErrorCode,
  message: string,
  details?: Record<string, unknown>,
  options: { promoted?: boolean } = {},
): Promise<ConfirmAnswer> {
  const rejected = await ctx.store.rejectUpload({ id: upload.id, from: sourcesOf("rejected"), code, reason: message, now: ctx.now() });
  if (rejected === undefined) {
    const current = await ctx.store.findUpload(upload.id);
    if (current === undefined) throw notFound();
    return settledAnswer(ctx, current);
  }
  ctx.committed();
  await retireStagingLater(ctx, rejected);
  if (options.promoted === true) await dropCopy(ctx, upload);
  throw new StowageError(code, message, details === undefined ? {} : { details });
}

/** Refused when a late confirm finds its link's uses taken by others meanwhile. */
export const LATE_USE =
  "This upload's URL expired and its use of the upload link went to another upload; the link has no use left for it.";

/**
 * The upload link of an upload whose URL has expired: its use was given back then (a link counts
 * only live URLs), so confirming it takes a use again, counted under the link's lock.
 */
export function lateLinkOf(ctx: UploadContext, upload: UploadRecord): string | undefined {
  return upload.linkId !== undefined && upload.expiresAt.getTime() <= ctx.now().getTime() ? upload.linkId : undefined;
}

async function dropCopy(ctx: UploadContext, upload: UploadRecord): Promise<void> {
  await ctx.driver.delete(finalOf(upload)).catch((error: unknown) => ctx.warn("promoted copy not deleted; left for the orphan sweep", upload, error));
}

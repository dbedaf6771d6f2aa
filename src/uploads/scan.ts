import type { ConfirmAnswer } from "../api/uploads.js";
import { isStowageError } from "../errors.js";
import type { Scanner, ScanVerdict } from "../scanning/scanner.js";
import type { ObjectStat } from "../storage/driver.js";
import { scanningAnswer, settledAnswer } from "./answers.js";
import { LATE_USE, lateLinkOf, promote, reject } from "./confirm.js";
import { notFound, type UploadContext } from "./context.js";
import { isScanning, sourcesOf, statusesWhere } from "./lifecycle.js";
import type { UploadRecord } from "./record.js";
import { retireStagingLater, stagingOf } from "./staging.js";

const SCANNING = statusesWhere(isScanning);

/**
 * Confirm for a policy that scans: the bytes are verified (size, type) but stay where the
 * client put them, in the never-served staging place, and the upload waits in `scanning`
 * with its size still reserved. `scan.requested` is written in the same transaction, so the
 * scan cannot be forgotten by a process that dies now.
 */
export async function beginScan(ctx: UploadContext, upload: UploadRecord, stat: ObjectStat): Promise<ConfirmAnswer> {
  const scanning = await ctx.store.beginScan({
    id: upload.id,
    from: sourcesOf("scanning"),
    size: stat.size,
    etag: stat.etag,
    lateLink: lateLinkOf(ctx, upload),
    now: ctx.now(),
  });
  if (scanning === "link-used-up") return reject(ctx, upload, "LINK_USED_UP", LATE_USE);
  if (scanning === undefined) {
    const current = await ctx.store.findUpload(upload.id);
    if (current === undefined) throw notFound();
    return settledAnswer(ctx, current);
  }
  ctx.committed();
  return scanningAnswer(scanning);
}

export type ScanOutcome = "clean" | "infected" | "too-large" | "settled";

/**
 * Scans a `scanning` upload's bytes (those verified at confirm: the read is conditional on
 * their ETag) and settles it: clean → promoted and `confirmed` (`upload.scanned`, then
 * `upload.confirmed`); infected → `infected`, its bytes deleted and its reservation released
 * (`upload.infected`); larger than the scanner takes → `rejected` (never served unscanned).
 * A scanner that cannot be reached throws: the upload keeps waiting, and the caller retries.
 */
export async function scanUpload(ctx: UploadContext, scanner: Scanner, id: string, signal?: AbortSignal): Promise<ScanOutcome> {
  const upload = await ctx.store.findUpload(id);
  if (upload === undefined || !isScanning(upload.status) || upload.etag === undefined || upload.size === undefined) return "settled";
  const stat = { size: upload.size, etag: upload.etag };
  const changed = () =>
    reject(ctx, upload, "UPLOAD_CHANGED", "The object changed after it was verified; it was not served.").catch(ignoreRefusal);
  let verdict: ScanVerdict;
  try {
    const body = await ctx.driver.read({ ...stagingOf(upload), ifMatch: upload.etag });
    verdict = await scanner.scan(body, signal === undefined ? {} : { signal }).finally(() => body.destroy());
  } catch (error) {
    // The verified bytes are gone or not those any more (nothing should ever do that): refused, not retried forever.
    if (isStowageError(error) && (error.code === "UPLOAD_CHANGED" || error.code === "NOT_FOUND")) {
      await changed();
      return "settled";
    }
    throw error;
  }
  switch (verdict.kind) {
    case "clean":
      await promote(ctx, upload, stat, { scanned: true }).catch(async (error: unknown) => {
        if (isStowageError(error) && error.code === "UPLOAD_CHANGED") return changed();
        return ignoreRefusal(error);
      });
      return "clean";
    case "infected": {
      const infected = await ctx.store.markInfected({ id: upload.id, from: SCANNING, signature: verdict.signature, now: ctx.now() });
      if (infected === undefined) return "settled";
      ctx.committed();
      await retireStagingLater(ctx, infected);
      return "infected";
    }
    case "too-large":
      await reject(ctx, upload, "FILE_TOO_LARGE_TO_SCAN", "The file is larger than the virus scanner accepts; it was not served.").catch(ignoreRefusal);
      return "too-large";
  }
}

/**
 * A refusal (4xx) is how the upload was settled, recorded with its event, or found settled by
 * someone else: not a failure to retry. A 5xx (storage or database down) is, and is thrown.
 */
function ignoreRefusal(error: unknown): void {
  if (isStowageError(error) && error.status < 500) return;
  throw error;
}

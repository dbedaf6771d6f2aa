import type { ConfirmAnswer } from "../api/uploads.js";
import { ERROR_STATUS, type ErrorCode, StowageError } from "../errors.js";
import type { UploadRecord } from "./record.js";
import type { UploadContext } from "./context.js";
import { attachmentDisposition } from "./disposition.js";
import type { CachedUrl } from "./download-urls.js";
import { isRefused, isScanning, isServable } from "./lifecycle.js";

export type { ConfirmAnswer };

/** A confirmed upload's answer: its public/CDN URL, or a short-lived signed one for private types. */
export async function confirmAnswer(ctx: UploadContext, upload: UploadRecord): Promise<ConfirmAnswer> {
  const policy = ctx.policies.get(upload.ownerType);
  const publicUrl = policy?.visibility === "public" ? ctx.driver.publicUrl({ bucket: upload.bucket, key: upload.key }) : undefined;
  return {
    id: upload.id,
    status: "confirmed",
    size: upload.size ?? upload.declaredSize,
    contentType: upload.contentType,
    url: publicUrl ?? (await signedGet(ctx, upload)).url,
  };
}

/** A verified upload waiting for the virus scanner: not served yet, so no URL. */
export function scanningAnswer(upload: UploadRecord): ConfirmAnswer {
  return { id: upload.id, status: "scanning", size: upload.size ?? upload.declaredSize, contentType: upload.contentType };
}

/** The answer for an upload that is no longer pending: the same result as the first time. */
export async function settledAnswer(ctx: UploadContext, upload: UploadRecord): Promise<ConfirmAnswer> {
  if (isServable(upload.status)) return confirmAnswer(ctx, upload);
  if (isScanning(upload.status)) return scanningAnswer(upload);
  if (isRefused(upload.status)) {
    const code = upload.rejectCode ?? "";
    throw new StowageError(
      code in ERROR_STATUS ? (code as ErrorCode) : "UPLOAD_NOT_PENDING",
      upload.rejectReason ?? "This upload was rejected.",
      { details: { status: upload.status } },
    );
  }
  throw new StowageError("UPLOAD_GONE", `This upload is ${upload.status}.`);
}

export function signedGet(ctx: UploadContext, upload: UploadRecord): Promise<CachedUrl> {
  return ctx.downloads.get({ bucket: upload.bucket, key: upload.key }, attachmentDisposition(upload.filename));
}

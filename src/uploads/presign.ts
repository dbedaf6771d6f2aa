import type { Principal } from "../auth/principal.js";
import { StowageError } from "../errors.js";
import { renderKey, templateNeedsOwnerId } from "../policies/key-template.js";
import { extensionFor, normalizeMimeType } from "../policies/mime.js";
import { mayUse, type Policy } from "../policies/policy.js";
import { stagingKeyFor } from "../policies/staging-key.js";
import type { PresignAnswer, PresignRequest } from "../api/presign.js";
import type { NewUpload, UploadRecord } from "./record.js";
import type { ReservationRefusal } from "../store/store.js";
import type { LinkRefusal } from "../store/link-store.js";
import { linkExpired, linkRevoked } from "../links/errors.js";
import { ownerIdThroughLink, policyFor } from "../links/scope.js";
import { chargesOf, policyOf, quotaExceeded, type UploadContext } from "./context.js";
import { sanitizeFilename } from "./filename.js";
import { FIRST_BATCH } from "./multipart.js";
import { subjectKind } from "./observer.js";
import { assertPresignInput } from "./presign-input.js";
import { newUploadId } from "./upload-id.js";

/** A presign request: the contract's, whichever surface it came through (checked again here). */
export type PresignInput = PresignRequest;

/** How long a multipart upload may take, end to end; its part URLs are re-signed meanwhile. */
export const MULTIPART_TTL_SECONDS = 24 * 3600;

/**
 * Checks the request against the owner type's policy, reserves its size against the quota,
 * records a pending upload and signs a URL for its staging key (never the key it will be
 * served from: see `staging.ts`).
 */
export async function presign(ctx: UploadContext, caller: Principal, input: PresignInput): Promise<PresignAnswer> {
  assertPresignInput(input);
  await checkRate(ctx, caller);
  // Through a link: its owner type and ownerId only, within its narrower limits.
  const ownerId = caller.kind === "link" ? ownerIdThroughLink(caller, input) : input.ownerId;
  const policy = policyFor(policyOf(ctx, input.ownerType), caller);
  const contentType = checkPolicy(policy, caller, input, ownerId);

  const now = ctx.now();
  const id = newUploadId();
  const key = renderKey(policy.keyTemplate, { userId: caller.userId, ownerId, id, ext: extensionFor(contentType), now });
  const staging = { bucket: ctx.stagingBucket, key: stagingKeyFor(id) };
  const base = {
    id,
    userId: caller.userId,
    orgId: caller.orgId,
    ownerType: policy.ownerType,
    ownerId,
    linkId: caller.kind === "link" ? caller.linkId : undefined,
    bucket: policy.bucket,
    key,
    staging,
    filename: sanitizeFilename(input.filename),
    contentType,
    declaredSize: input.size,
    createdAt: now,
  };
  const ttlFromNow = (seconds: number) => new Date(now.getTime() + seconds * 1000);
  const signOnce = {
    ...staging,
    contentType,
    contentLength: input.size,
    cacheControl: policy.cacheControl,
    expiresInSeconds: policy.urlTtlSeconds,
  };

  if (input.method === "POST") {
    const driver = ctx.driver;
    if (driver.presignPost === undefined || !driver.capabilities.has("post-policy")) {
      throw new StowageError("INVALID_REQUEST", `The ${driver.name} storage does not accept POST uploads; use PUT.`, {
        details: { field: "method" },
      });
    }
    await create(ctx, caller, { ...base, method: "post", expiresAt: ttlFromNow(policy.urlTtlSeconds), multipart: undefined });
    const form = await driver.presignPost(signOnce);
    return { kind: "post", id, key, method: "POST", url: form.url, headers: form.headers, fields: form.fields ?? {}, expiresAt: form.expiresAt.toISOString() };
  }
  const plan = ctx.multipart.planFor(policy, input.size);
  if (plan !== undefined) {
    // The store's upload id must exist before the row that points at it; should the insert be
    // refused or fail, the upload is aborted (or, at worst, by the sweeper or the store's rule).
    const { uploadId } = await ctx.multipart.start({ ...staging, contentType, cacheControl: policy.cacheControl });
    const upload = await create(ctx, caller, {
      ...base,
      method: "multipart",
      expiresAt: ttlFromNow(MULTIPART_TTL_SECONDS),
      multipart: { uploadId, ...plan },
    }).catch(async (error: unknown) => {
      await ctx.driver.abortMultipart?.({ ...staging, uploadId }).catch(() => undefined);
      throw error;
    });
    const partNumbers = Array.from({ length: Math.min(plan.partCount, FIRST_BATCH) }, (_, i) => i + 1);
    // The whole file's MD5 is its only part's MD5 when there is one part (every upload under
    // 5 MiB on a store without conditional writes); of several parts it says nothing: unused.
    const contentMd5s = plan.partCount === 1 && input.contentMd5 !== undefined ? { contentMd5s: [input.contentMd5] } : {};
    const parts = await ctx.multipart.signParts(upload, { partNumbers, ...contentMd5s }, policy.urlTtlSeconds);
    return { kind: "multipart", id, key, method: "PUT", multipart: { ...plan, parts }, expiresAt: upload.expiresAt.toISOString() };
  }
  await create(ctx, caller, { ...base, method: "put", expiresAt: ttlFromNow(policy.urlTtlSeconds), multipart: undefined });
  // With the client's MD5 signed in, the store itself refuses bytes that changed on the way.
  const put = await ctx.driver.presignPut(input.contentMd5 === undefined ? signOnce : { ...signOnce, contentMd5: input.contentMd5 });
  return { kind: "put", id, key, method: "PUT", url: put.url, headers: put.headers, expiresAt: put.expiresAt.toISOString() };
}

async function checkRate(ctx: UploadContext, caller: Principal): Promise<void> {
  // A link's presigns count against the link, not against its creator's own allowance.
  const rate = caller.kind === "link" ? ctx.linkPresignRateLimit : ctx.presignRateLimit;
  if (rate === undefined) return;
  const key = caller.kind === "link" ? `presign:link:${caller.linkId}` : `presign:user:${caller.userId}`;
  const decision = await rate.limiter.hit(key, rate.limit, rate.windowSeconds);
  if (!decision.allowed) {
    throw new StowageError("RATE_LIMITED", `Too many uploads started; try again in ${decision.retryAfterSeconds} s.`, {
      details: { retryAfterSeconds: decision.retryAfterSeconds },
    });
  }
}

/** The policy's rules, checked before anything is recorded or signed; answers the normalized type. */
function checkPolicy(policy: Policy, caller: Principal, input: PresignInput, ownerId: string | undefined): string {
  if (!mayUse(policy, caller.roles)) {
    throw new StowageError("FORBIDDEN", `You may not upload files of owner type '${policy.ownerType}'.`);
  }
  const contentType = normalizeMimeType(input.contentType);
  if (!policy.allowedTypes.includes(contentType)) {
    throw new StowageError("CONTENT_TYPE_NOT_ALLOWED", `${contentType} is not allowed for ${policy.ownerType}.`, {
      details: { contentType, allowedTypes: policy.allowedTypes },
    });
  }
  if (input.size > policy.maxBytes) {
    throw new StowageError("FILE_TOO_LARGE", `The file is larger than ${policy.maxBytes} bytes.`, {
      details: { size: input.size, maxBytes: policy.maxBytes },
    });
  }
  if (templateNeedsOwnerId(policy.keyTemplate) && ownerId === undefined) {
    throw new StowageError("OWNER_ID_REQUIRED", `Owner type '${policy.ownerType}' needs an ownerId.`);
  }
  return contentType;
}

/**
 * Records the upload with its size reserved. Reservations of uploads whose URL expired are
 * given back lazily (and by the sweeper): a refusal first releases the refusing subject's
 * expired ones and tries once more, so an expired upload never blocks a new one.
 */
async function create(ctx: UploadContext, caller: Principal, upload: NewUpload): Promise<UploadRecord> {
  const reserve = chargesOf(ctx, caller.userId, caller.orgId);
  let outcome = await ctx.store.createUpload({ upload, reserve, now: ctx.now() });
  if (outcome.kind === "refused") {
    const org = outcome.refusal.usage.subject.startsWith("org:");
    const whose = org ? { orgId: caller.orgId } : { userId: caller.userId };
    const released = await ctx.store.releaseExpiredReservations({ ...whose, now: ctx.now() });
    if (released > 0) outcome = await ctx.store.createUpload({ upload, reserve, now: ctx.now() });
  }
  if (outcome.kind === "link-refused") throw linkRefused(outcome.reason);
  if (outcome.kind === "refused") {
    const { reason, usage } = outcome.refusal;
    ctx.observe?.quotaRefused("presign", subjectKind(usage.subject), reason === "pending" ? "pending" : "bytes");
    throw refused(ctx, outcome.refusal, upload.declaredSize);
  }
  return outcome.upload;
}

function linkRefused(reason: LinkRefusal): StowageError {
  switch (reason) {
    case "used-up":
      return new StowageError("LINK_USED_UP", "This upload link has been used as many times as it allows.");
    case "revoked":
      return linkRevoked();
    case "expired":
      return linkExpired();
  }
}

function refused(ctx: UploadContext, refusal: ReservationRefusal, size: number): StowageError {
  if (refusal.reason === "pending") {
    return new StowageError(
      "TOO_MANY_PENDING_UPLOADS",
      `You have ${refusal.usage.pendingUploads} uploads in progress; confirm or delete some before starting another.`,
      { details: { pendingUploads: refusal.usage.pendingUploads, maxPendingUploads: ctx.maxPendingUploads } },
    );
  }
  return quotaExceeded(refusal.usage, size);
}

import { canAccess, type Principal } from "../auth/principal.js";
import { StowageError } from "../errors.js";
import type { Policy, PolicySet } from "../policies/policy.js";
import type { StorageDriver } from "../storage/driver.js";
import { type UploadRecord } from "./record.js";
import { type QuotaCharge, quotaSubjects } from "../store/quota.js";
import type { MetadataStore } from "../store/store.js";
import type { DownloadUrls } from "./download-urls.js";
import type { MultipartUploads } from "./multipart.js";
import type { UploadObserver } from "./observer.js";
import type { RateLimiter } from "./rate-limit.js";

/** What the steps of the upload pipeline (presign, confirm, remove) share. */
export interface UploadContext {
  store: MetadataStore;
  driver: StorageDriver;
  policies: PolicySet;
  multipart: MultipartUploads;
  downloads: DownloadUrls;
  /** The logical bucket (always private) that staging keys live in. */
  stagingBucket: string;
  defaultQuotaBytes: number;
  defaultOrgQuotaBytes: number;
  /** Pending uploads a user may have at once. */
  maxPendingUploads: number;
  presignRateLimit: { limiter: RateLimiter; limit: number; windowSeconds: number } | undefined;
  /** Presigns per upload link and minute (`presign:link:<id>`), on the same limiter; absent: unlimited. */
  linkPresignRateLimit: { limiter: RateLimiter; limit: number; windowSeconds: number } | undefined;
  /** Metrics (`observer.ts`); absent: nothing is counted. */
  observe: UploadObserver | undefined;
  now(): Date;
  /** A handled failure worth an operator's eye (an object left behind for the sweeper). */
  warn(message: string, upload: UploadRecord, error: unknown): void;
  /** A state change (and so an event) was just committed: the dispatcher may look now rather than at its next round. */
  committed(): void;
}

export function policyOf(ctx: UploadContext, ownerType: string): Policy {
  const policy = ctx.policies.get(ownerType);
  if (policy === undefined) {
    throw new StowageError("UNKNOWN_OWNER_TYPE", `Unknown owner type '${ownerType}'.`, {
      details: { ownerTypes: [...ctx.policies.keys()] },
    });
  }
  return policy;
}

/** The quota subjects an upload is charged to: always the user, and the organization when there is one. */
export function chargesOf(ctx: UploadContext, userId: string, orgId: string | undefined): QuotaCharge[] {
  const [user, org] = quotaSubjects(userId, orgId);
  const charges: QuotaCharge[] = [{ subject: user as string, defaultLimitBytes: ctx.defaultQuotaBytes, maxPending: ctx.maxPendingUploads }];
  if (org !== undefined) charges.push({ subject: org, defaultLimitBytes: ctx.defaultOrgQuotaBytes });
  return charges;
}

/** An upload the caller may reach (`canAccess`); anyone else's is indistinguishable from a missing one (404). */
export async function ownUpload(ctx: UploadContext, caller: Principal, id: string): Promise<UploadRecord> {
  const upload = await ctx.store.findUpload(id);
  if (upload === undefined || !canAccess(caller, upload)) throw notFound();
  return upload;
}

export function notFound(): StowageError {
  return new StowageError("NOT_FOUND", "No such upload.");
}

export function quotaExceeded(
  usage: { usedBytes: number; reservedBytes: number; limitBytes: number },
  rejectedBytes: number,
): StowageError {
  return new StowageError("QUOTA_EXCEEDED", "This upload would exceed your storage quota.", {
    details: { usedBytes: usage.usedBytes, reservedBytes: usage.reservedBytes, limitBytes: usage.limitBytes, rejectedBytes },
  });
}

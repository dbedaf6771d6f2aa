import { ERROR_STATUS, type ErrorCode, StowageError } from "../errors.js";
import { renderKey, templateNeedsOwnerId } from "../policies/key-template.js";
import { extensionFor, normalizeMimeType } from "../policies/mime.js";
import { mayUse, type Policy, type PolicySet } from "../policies/policy.js";
import type { CompletedPart, PresignedRequest, StorageDriver } from "../storage/driver.js";
import { type QuotaCharge, quotaSubjects, type UploadRecord } from "../store/records.js";
import type { MetadataStore } from "../store/store.js";
import { attachmentDisposition } from "./disposition.js";
import { type CachedUrl, DownloadUrls, MemoryUrlCache, type UrlCache } from "./download-urls.js";
import { sanitizeFilename } from "./filename.js";
import { sourcesOf } from "./lifecycle.js";
import { FIRST_BATCH, MultipartUploads, type SignedPart } from "./multipart.js";
import type { RateLimiter } from "./rate-limit.js";
import { SNIFF_BYTES, sniff } from "./sniff.js";
import { newUploadId } from "./upload-id.js";
import { decodeCursor, encodeCursor, toView, type UploadView } from "./views.js";

/** Who is asking: the verified JWT subject, roles and organization. */
export interface Caller {
  userId: string;
  roles: readonly string[];
  /** From the token's `org` claim: its quota is charged alongside the user's. */
  orgId?: string | undefined;
}

export interface QuotaAnswer {
  usedBytes: number;
  limitBytes: number;
  org?: { id: string; usedBytes: number; limitBytes: number };
}

const DAY_MS = 24 * 3600 * 1000;

export interface UploadServiceOptions {
  store: MetadataStore;
  driver: StorageDriver;
  policies: PolicySet;
  /** Per-user limit for users without one of their own. */
  defaultQuotaBytes: number;
  /** Per-organization limit for organizations without one of their own. */
  defaultOrgQuotaBytes: number;
  /** Lifetime of download URLs for private objects. */
  downloadTtlSeconds: number;
  /** Where signed download URLs are reused from; in-process LRU by default. */
  urlCache?: UrlCache;
  /** Presign requests per user and window; absent: unlimited. */
  presignRateLimit?: { limiter: RateLimiter; limit: number; windowSeconds: number } | undefined;
  now?: () => Date;
  /** Told about failures that are handled but worth an operator's eye (an object left behind). */
  onWarning?: (message: string, context: Record<string, unknown>) => void;
}

export interface PresignInput {
  ownerType: string;
  filename: string;
  contentType: string;
  size: number;
  ownerId?: string | undefined;
  /** `POST` asks for a browser form upload (stores with POST policies only). Default `PUT`. */
  method?: "PUT" | "POST" | undefined;
}

/** How long a multipart upload may take, end to end; its part URLs are re-signed meanwhile. */
const MULTIPART_TTL_SECONDS = 24 * 3600;

/** A single presigned PUT, or for large files the part plan with the first part URLs. */
export type PresignAnswer = { id: string; key: string } & (
  | PresignedRequest
  | { method: "PUT"; multipart: { partSize: number; partCount: number; parts: SignedPart[] }; expiresAt: Date }
);

export interface ConfirmAnswer {
  id: string;
  status: "confirmed";
  size: number;
  contentType: string;
  url: string;
}

/**
 * The upload pipeline: presign → (client uploads to storage) → confirm → serve / delete.
 * Composes the metadata store, the storage driver and the policies; knows nothing of HTTP.
 */
export class UploadService {
  readonly #o: UploadServiceOptions;
  readonly #now: () => Date;
  readonly #multipart: MultipartUploads;
  readonly #downloads: DownloadUrls;

  constructor(options: UploadServiceOptions) {
    this.#o = options;
    this.#now = options.now ?? (() => new Date());
    this.#multipart = new MultipartUploads(options.driver);
    this.#downloads = new DownloadUrls(options.driver, options.urlCache ?? new MemoryUrlCache(), {
      ttlSeconds: options.downloadTtlSeconds,
    });
  }

  /** Checks the request against the policy and quota, records a pending upload, signs a PUT. */
  async presign(caller: Caller, input: PresignInput): Promise<PresignAnswer> {
    const rate = this.#o.presignRateLimit;
    if (rate !== undefined) {
      const decision = await rate.limiter.hit(`presign:user:${caller.userId}`, rate.limit, rate.windowSeconds);
      if (!decision.allowed) {
        throw new StowageError("RATE_LIMITED", `Too many uploads started; try again in ${decision.retryAfterSeconds} s.`, {
          details: { retryAfterSeconds: decision.retryAfterSeconds },
        });
      }
    }
    const policy = this.#policy(input.ownerType);
    if (!mayUse(policy, caller.roles)) {
      throw new StowageError(
        "FORBIDDEN",
        `You may not upload files of owner type '${policy.ownerType}'.`,
      );
    }
    const contentType = normalizeMimeType(input.contentType);
    if (!policy.allowedTypes.includes(contentType)) {
      throw new StowageError(
        "CONTENT_TYPE_NOT_ALLOWED",
        `${contentType} is not allowed for ${policy.ownerType}.`,
        {
          details: { contentType, allowedTypes: policy.allowedTypes },
        },
      );
    }
    if (input.size > policy.maxBytes) {
      throw new StowageError(
        "FILE_TOO_LARGE",
        `The file is larger than ${policy.maxBytes} bytes.`,
        {
          details: { size: input.size, maxBytes: policy.maxBytes },
        },
      );
    }
    if (templateNeedsOwnerId(policy.keyTemplate) && input.ownerId === undefined) {
      throw new StowageError(
        "OWNER_ID_REQUIRED",
        `Owner type '${policy.ownerType}' needs an ownerId.`,
      );
    }
    // Early refusal only: the binding check is the atomic charge at confirm.
    for (const charge of this.#charges(caller)) {
      const usage = await this.#o.store.usage(charge);
      if (usage.usedBytes + input.size > usage.limitBytes) throw quotaExceeded(usage, input.size);
    }

    const now = this.#now();
    const id = newUploadId();
    const key = renderKey(policy.keyTemplate, {
      userId: caller.userId,
      ownerId: input.ownerId,
      id,
      ext: extensionFor(contentType),
      now,
    });
    const record = {
      id,
      userId: caller.userId,
      orgId: caller.orgId,
      ownerType: policy.ownerType,
      ownerId: input.ownerId,
      bucket: policy.bucket,
      key,
      filename: sanitizeFilename(input.filename),
      contentType,
      declaredSize: input.size,
      createdAt: now,
    };
    if (input.method === "POST") {
      const driver = this.#o.driver;
      if (driver.presignPost === undefined || !driver.capabilities.has("post-policy")) {
        throw new StowageError("INVALID_REQUEST", `The ${driver.name} storage does not accept POST uploads; use PUT.`, {
          details: { field: "body.method" },
        });
      }
      const expiresAt = new Date(now.getTime() + policy.urlTtlSeconds * 1000);
      await this.#o.store.insertUpload({ ...record, expiresAt, multipart: undefined });
      const signed = await driver.presignPost({
        bucket: policy.bucket,
        key,
        contentType,
        contentLength: input.size,
        cacheControl: policy.cacheControl,
        expiresInSeconds: policy.urlTtlSeconds,
      });
      return { id, key, ...signed };
    }
    const plan = this.#multipart.planFor(policy, input.size);
    if (plan !== undefined) {
      // The store's upload id must exist before the row that points at it; should the insert
      // fail, the sweeper aborts the stray upload.
      const { uploadId } = await this.#multipart.start({ bucket: policy.bucket, key, contentType, cacheControl: policy.cacheControl });
      const expiresAt = new Date(now.getTime() + MULTIPART_TTL_SECONDS * 1000);
      const upload = await this.#o.store.insertUpload({ ...record, expiresAt, multipart: { uploadId, ...plan } });
      const first = Array.from({ length: Math.min(plan.partCount, FIRST_BATCH) }, (_, i) => i + 1);
      const parts = await this.#multipart.signParts(upload, first, policy.urlTtlSeconds);
      return { id, key, method: "PUT", multipart: { ...plan, parts }, expiresAt };
    }
    const expiresAt = new Date(now.getTime() + policy.urlTtlSeconds * 1000);
    await this.#o.store.insertUpload({ ...record, expiresAt, multipart: undefined });
    const signed = await this.#o.driver.presignPut({
      bucket: policy.bucket,
      key,
      contentType,
      contentLength: input.size,
      cacheControl: policy.cacheControl,
      expiresInSeconds: policy.urlTtlSeconds,
    });
    return { id, key, ...signed };
  }

  /**
   * The server's verdict on an uploaded object: authoritative size from the store, sniffed
   * type, then the quota charge in the same transaction that marks it confirmed. A refused
   * object is deleted and the upload marked rejected. Confirming again answers the same.
   */
  async confirm(caller: Caller, id: string): Promise<ConfirmAnswer> {
    const upload = await this.#own(caller, id);
    if (upload.status !== "pending") return this.#settled(upload);
    const policy = this.#policy(upload.ownerType);
    const ref = { bucket: upload.bucket, key: upload.key };

    // The sniff read goes out with the stat, not after it: a round trip less to the store. Should
    // it fail (the object arriving between the two, say), it is read again once the stat agrees.
    const readHead = () => this.#o.driver.readHead({ ...ref, length: SNIFF_BYTES });
    const head = readHead();
    head.catch(() => undefined);
    const stat = await this.#o.driver.stat(ref);
    if (stat === undefined) {
      throw new StowageError(
        "UPLOAD_NOT_FOUND",
        "No object has been uploaded for this upload yet.",
      );
    }
    if (stat.size !== upload.declaredSize) {
      return this.#reject(
        upload,
        "SIZE_MISMATCH",
        `The object has ${stat.size} bytes, not the declared ${upload.declaredSize}.`,
      );
    }
    if (stat.size > policy.maxBytes) {
      return this.#reject(
        upload,
        "FILE_TOO_LARGE",
        `The file is larger than ${policy.maxBytes} bytes.`,
      );
    }
    const verdict = await sniff(await head.catch(readHead), upload.contentType);
    if (!verdict.ok || !policy.allowedTypes.includes(upload.contentType)) {
      const reason = verdict.ok ? `${upload.contentType} is no longer allowed` : verdict.reason;
      return this.#reject(upload, "CONTENT_TYPE_MISMATCH", `Refused: ${reason}.`, {
        declared: upload.contentType,
        detected: verdict.detected ?? null,
      });
    }

    const outcome = await this.#o.store.confirmUpload({
      id: upload.id,
      from: sourcesOf("confirmed"),
      size: stat.size,
      etag: stat.etag,
      charges: this.#charges(caller, upload.orgId),
      retainUntil: policy.retentionDays === undefined ? undefined : new Date(this.#now().getTime() + policy.retentionDays * DAY_MS),
      now: this.#now(),
    });
    switch (outcome.kind) {
      case "confirmed":
        return this.#confirmAnswer(outcome.upload);
      case "quota-exceeded": {
        const error = quotaExceeded(outcome.usage, stat.size);
        return this.#reject(upload, "QUOTA_EXCEEDED", error.message, error.details);
      }
      case "not-in-state":
        // A concurrent confirm (or delete) got there first; answer what it decided.
        if (outcome.upload === undefined) throw notFound();
        return this.#settled(outcome.upload);
    }
  }

  /** Fresh URLs for parts of a multipart upload: the next batch, or again after expiry. */
  async signParts(caller: Caller, id: string, partNumbers: readonly number[]): Promise<{ parts: SignedPart[] }> {
    const upload = await this.#own(caller, id);
    const policy = this.#policy(upload.ownerType);
    return { parts: await this.#multipart.signParts(upload, partNumbers, policy.urlTtlSeconds) };
  }

  /** Assembles a multipart upload from its parts' ETags; then confirm it like any upload. */
  async complete(caller: Caller, id: string, parts: readonly CompletedPart[]): Promise<UploadView> {
    const upload = await this.#own(caller, id);
    await this.#multipart.complete(upload, parts);
    return toView(upload);
  }

  async get(caller: Caller, id: string): Promise<UploadView> {
    return toView(await this.#own(caller, id));
  }

  async list(
    caller: Caller,
    query: { ownerType?: string | undefined; cursor?: string | undefined; limit: number },
  ): Promise<{ items: UploadView[]; nextCursor: string | null }> {
    const before = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
    if (query.cursor !== undefined && before === undefined) {
      throw new StowageError("INVALID_REQUEST", "The cursor is not valid.", {
        details: { field: "cursor" },
      });
    }
    const rows = await this.#o.store.listUploads({
      userId: caller.userId,
      ownerType: query.ownerType,
      before,
      limit: query.limit + 1,
    });
    const page = rows.slice(0, query.limit);
    const last = page.at(-1);
    return {
      items: page.map(toView),
      nextCursor: rows.length > query.limit && last !== undefined ? encodeCursor(last.id) : null,
    };
  }

  /** Deletes the upload and its object and gives its bytes back. Deleting twice is harmless. */
  async remove(caller: Caller, id: string): Promise<void> {
    const upload = await this.#own(caller, id);
    if (upload.status === "deleted") return;
    if (upload.retainUntil !== undefined && upload.retainUntil > this.#now()) {
      throw new StowageError("RETENTION_ACTIVE", `This upload must be kept until ${upload.retainUntil.toISOString()}.`, {
        details: { retainUntil: upload.retainUntil.toISOString() },
      });
    }
    const deleted = await this.#o.store.deleteUpload({ id: upload.id, from: sourcesOf("deleted"), now: this.#now() });
    if (deleted === undefined) {
      const current = await this.#o.store.findUpload(upload.id);
      if (current?.status === "deleted") return;
      throw new StowageError("UPLOAD_GONE", "This upload has already expired.");
    }
    if (upload.status === "pending" && upload.multipart !== undefined) {
      await this.#multipart.abort(upload).catch((error: unknown) => this.#warn("multipart abort failed", upload, error));
    }
    await this.#deleteObject(upload);
  }

  /** A short-lived URL to download a confirmed upload under its original filename. */
  async download(caller: Caller, id: string): Promise<{ url: string; expiresAt: Date }> {
    const upload = await this.#own(caller, id);
    if (upload.status !== "confirmed") {
      throw new StowageError(
        "UPLOAD_NOT_CONFIRMED",
        `This upload is ${upload.status}, not confirmed.`,
      );
    }
    const signed = await this.#signedGet(upload);
    return { url: signed.url, expiresAt: new Date(signed.expiresAt) };
  }

  /** The caller's usage, and their organization's when the token names one. */
  async quota(caller: Caller): Promise<QuotaAnswer> {
    const [user, org] = await Promise.all(this.#charges(caller).map((charge) => this.#o.store.usage(charge)));
    if (user === undefined) throw new Error("no user quota subject");
    const answer: QuotaAnswer = { usedBytes: user.usedBytes, limitBytes: user.limitBytes };
    if (org !== undefined && caller.orgId !== undefined) {
      answer.org = { id: caller.orgId, usedBytes: org.usedBytes, limitBytes: org.limitBytes };
    }
    return answer;
  }

  /**
   * Links confirmed uploads to an application record, all or none. An upload that is not the
   * caller's, not confirmed, or attached to another record refuses the whole request.
   */
  async attach(caller: Caller, ids: readonly string[], parent: { type: string; id: string }): Promise<UploadView[]> {
    const outcome = await this.#o.store.attachUploads({ userId: caller.userId, ids: [...new Set(ids)], parent, now: this.#now() });
    if (outcome.kind === "refused") {
      throw new StowageError("ATTACH_CONFLICT", "Nothing was attached: some uploads cannot be attached to this record.", {
        details: { refused: outcome.refused },
      });
    }
    return outcome.uploads.map(toView);
  }

  #policy(ownerType: string): Policy {
    const policy = this.#o.policies.get(ownerType);
    if (policy === undefined) {
      throw new StowageError("UNKNOWN_OWNER_TYPE", `Unknown owner type '${ownerType}'.`, {
        details: { ownerTypes: [...this.#o.policies.keys()] },
      });
    }
    return policy;
  }

  /** The caller's quota subjects: always the user, and the organization when there is one. */
  #charges(caller: Caller, orgId: string | undefined = caller.orgId): QuotaCharge[] {
    const [user, org] = quotaSubjects(caller.userId, orgId);
    const charges: QuotaCharge[] = [{ subject: user as string, defaultLimitBytes: this.#o.defaultQuotaBytes }];
    if (org !== undefined) charges.push({ subject: org, defaultLimitBytes: this.#o.defaultOrgQuotaBytes });
    return charges;
  }

  /** The caller's own upload; anyone else's is indistinguishable from a missing one (404). */
  async #own(caller: Caller, id: string): Promise<UploadRecord> {
    const upload = await this.#o.store.findUpload(id);
    if (upload === undefined || upload.userId !== caller.userId) throw notFound();
    return upload;
  }

  /** The answer for an upload that is no longer pending: the same result as the first time. */
  async #settled(upload: UploadRecord): Promise<ConfirmAnswer> {
    switch (upload.status) {
      case "confirmed":
        return this.#confirmAnswer(upload);
      case "rejected": {
        const code = upload.rejectCode ?? "";
        throw new StowageError(
          code in ERROR_STATUS ? (code as ErrorCode) : "UPLOAD_NOT_PENDING",
          upload.rejectReason ?? "This upload was rejected.",
          { details: { status: "rejected" } },
        );
      }
      default:
        throw new StowageError("UPLOAD_GONE", `This upload is ${upload.status}.`);
    }
  }

  async #reject(
    upload: UploadRecord,
    code: ErrorCode,
    message: string,
    details?: Record<string, unknown>,
  ): Promise<ConfirmAnswer> {
    const rejected = await this.#o.store.rejectUpload({
      id: upload.id,
      from: sourcesOf("rejected"),
      code,
      reason: message,
    });
    if (rejected === undefined) {
      // Another request settled it first; its verdict stands and its object must stay.
      const current = await this.#o.store.findUpload(upload.id);
      if (current === undefined) throw notFound();
      return this.#settled(current);
    }
    await this.#deleteObject(upload);
    throw new StowageError(code, message, details === undefined ? {} : { details });
  }

  async #deleteObject(upload: UploadRecord): Promise<void> {
    try {
      await this.#o.driver.delete({ bucket: upload.bucket, key: upload.key });
    } catch (error) {
      // The row already says the object is gone; the orphan sweep removes what is left.
      this.#warn("object delete failed; left for the orphan sweep", upload, error);
    }
  }

  #warn(message: string, upload: UploadRecord, error: unknown): void {
    this.#o.onWarning?.(message, {
      uploadId: upload.id,
      key: upload.key,
      error: error instanceof Error ? error.message : String(error),
    });
  }

  async #confirmAnswer(upload: UploadRecord): Promise<ConfirmAnswer> {
    const policy = this.#o.policies.get(upload.ownerType);
    const ref = { bucket: upload.bucket, key: upload.key };
    const publicUrl = policy?.visibility === "public" ? this.#o.driver.publicUrl(ref) : undefined;
    return {
      id: upload.id,
      status: "confirmed",
      size: upload.size ?? upload.declaredSize,
      contentType: upload.contentType,
      url: publicUrl ?? (await this.#signedGet(upload)).url,
    };
  }

  #signedGet(upload: UploadRecord): Promise<CachedUrl> {
    return this.#downloads.get({ bucket: upload.bucket, key: upload.key }, attachmentDisposition(upload.filename));
  }
}

function notFound(): StowageError {
  return new StowageError("NOT_FOUND", "No such upload.");
}

function quotaExceeded(
  usage: { usedBytes: number; limitBytes: number },
  rejectedBytes: number,
): StowageError {
  return new StowageError("QUOTA_EXCEEDED", "This upload would exceed your storage quota.", {
    details: { usedBytes: usage.usedBytes, limitBytes: usage.limitBytes, rejectedBytes },
  });
}

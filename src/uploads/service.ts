import { canAccess, type Principal, requireUser } from "../auth/principal.js";
import { policyFor } from "../links/scope.js";
import type { DownloadAnswer, PolicyList, QuotaAnswer, UploadPage } from "../api/uploads.js";
import type { PresignAnswer, SignPartsAnswer, SignPartsRequest, UploadPartsAnswer } from "../api/presign.js";
import { StowageError } from "../errors.js";
import { templateNeedsOwnerId } from "../policies/key-template.js";
import { mayUse, type PolicySet } from "../policies/policy.js";
import type { CompletedPart, StorageDriver } from "../storage/driver.js";
import type { UploadRecord } from "./record.js";
import type { MetadataStore } from "../store/store.js";
import { type ConfirmAnswer, signedGet } from "./answers.js";
import { confirm } from "./confirm.js";
import { chargesOf, notFound, ownUpload, type UploadContext } from "./context.js";
import { makeDerivatives } from "./derive.js";
import { scanUpload, type ScanOutcome } from "./scan.js";
import type { Scanner } from "../scanning/scanner.js";
import { DownloadUrls, MemoryUrlCache, type UrlCache } from "./download-urls.js";
import { MultipartUploads } from "./multipart.js";
import { reportOutcome, type UploadObserver } from "./observer.js";
import { presign, type PresignInput } from "./presign.js";
import type { RateLimiter } from "./rate-limit.js";
import { remove } from "./remove.js";
import { retireStagingLater } from "./staging.js";
import { decodeCursor, encodeCursor, toView, type UploadView } from "./views.js";
import { isServable } from "./lifecycle.js";

export type { ConfirmAnswer } from "./answers.js";
export type { PresignInput } from "./presign.js";
export type { DownloadAnswer, PresignAnswer, QuotaAnswer, SignPartsAnswer, UploadPage };

export interface UploadServiceOptions {
  store: MetadataStore;
  driver: StorageDriver;
  policies: PolicySet;
  /** The logical bucket staging keys live in: private, never served. Default `private`. */
  stagingBucket?: string;
  /** Per-user limit for users without one of their own. */
  defaultQuotaBytes: number;
  /** Per-organization limit for organizations without one of their own. */
  defaultOrgQuotaBytes: number;
  /** Pending uploads one user may have at once. Default 100. */
  maxPendingUploads?: number;
  /** Lifetime of download URLs for private objects. */
  downloadTtlSeconds: number;
  /** Where signed download URLs are reused from; in-process LRU by default. */
  urlCache?: UrlCache;
  /** Presign requests per user and window; absent: unlimited. */
  presignRateLimit?: { limiter: RateLimiter; limit: number; windowSeconds: number } | undefined;
  /** Presign requests per upload link and window; absent: unlimited. */
  linkPresignRateLimit?: { limiter: RateLimiter; limit: number; windowSeconds: number } | undefined;
  now?: () => Date;
  /** Told about failures that are handled but worth an operator's eye (an object left behind). */
  onWarning?: (message: string, context: Record<string, unknown>) => void;
  /** Told what happened, for metrics (`src/metrics/`); absent: nothing is counted. */
  observe?: UploadObserver | undefined;
  /** Told when a state change (and its event) committed, to wake the dispatcher (`src/events/`). */
  onCommitted?: (() => void) | undefined;
}

/**
 * The upload pipeline: presign → (client uploads to its staging key) → confirm (verify, then
 * promote to the served key) → serve / delete. Composes the metadata store, the storage driver
 * and the policies; knows nothing of HTTP. Each step lives in its own file; this class holds
 * what they share.
 */
export class UploadService {
  readonly #ctx: UploadContext;

  constructor(options: UploadServiceOptions) {
    const now = options.now ?? (() => new Date());
    this.#ctx = {
      store: options.store,
      driver: options.driver,
      policies: options.policies,
      multipart: new MultipartUploads(options.driver),
      downloads: new DownloadUrls(options.driver, options.urlCache ?? new MemoryUrlCache(), { ttlSeconds: options.downloadTtlSeconds }),
      stagingBucket: options.stagingBucket ?? "private",
      defaultQuotaBytes: options.defaultQuotaBytes,
      defaultOrgQuotaBytes: options.defaultOrgQuotaBytes,
      maxPendingUploads: options.maxPendingUploads ?? 100,
      presignRateLimit: options.presignRateLimit,
      linkPresignRateLimit: options.linkPresignRateLimit,
      observe: options.observe,
      now,
      committed: () => options.onCommitted?.(),
      warn: (message, upload, error) => {
        const reason = error instanceof Error ? error.message : String(error);
        options.onWarning?.(message, { uploadId: upload.id, key: upload.key, error: reason });
      },
    };
  }

  /** Checks the request against the policy, reserves its size, records a pending upload, signs a URL. */
  presign(caller: Principal, input: PresignInput): Promise<PresignAnswer> {
    const work = forHolder(caller, presign(this.#ctx, caller, input));
    const observe = this.#ctx.observe;
    if (observe === undefined) return work;
    return reportOutcome(work, (outcome) => observe.presigned(input.ownerType, input.method === "POST" ? "post" : "put", outcome));
  }

  /** The server's verdict on an uploaded object (see `confirm.ts`). Idempotent. */
  confirm(caller: Principal, id: string): Promise<ConfirmAnswer> {
    return forHolder(caller, this.#confirmFound(caller, ownUpload(this.#ctx, caller, id)));
  }

  /**
   * Confirm by the key the upload will be served from (GraphQL's `confirmMediaUpload`), looked
   * up among the caller's own uploads only: another user's key is not found.
   */
  confirmByKey(caller: Principal, key: string): Promise<ConfirmAnswer> {
    const found = this.#ctx.store
      .findUploadByKey({ userId: caller.userId, key })
      .then((upload) => (upload !== undefined && canAccess(caller, upload) ? upload : Promise.reject(notFound())));
    return forHolder(caller, this.#confirmFound(caller, found));
  }

  /** A link's holder sends, it does not read: no URL to a private upload's bytes (a public one's is public anyway). */
  #readable<T extends object>(caller: Principal, ownerType: string, answer: T): T {
    if (caller.kind === "user" || this.#ctx.policies.get(ownerType)?.visibility === "public") return answer;
    const sent = { ...answer } as T & { url?: unknown; derivatives?: unknown };
    delete sent.url;
    delete sent.derivatives;
    return sent;
  }

  /** Confirms the upload found, and tells the observer how it ended, found or not. */
  #confirmFound(caller: Principal, found: Promise<UploadRecord>): Promise<ConfirmAnswer> {
    let ownerType: string | undefined;
    const work = found.then(async (upload) => {
      ownerType = upload.ownerType;
      return this.#readable(caller, upload.ownerType, await confirm(this.#ctx, upload));
    });
    const observe = this.#ctx.observe;
    return observe === undefined ? work : reportOutcome(work, (outcome) => observe.confirmed(ownerType, outcome));
  }

  /**
   * Fresh URLs for parts of a multipart upload: the next batch, or again after expiry; with
   * `contentMd5s`, each signs its part's MD5.
   */
  async signParts(caller: Principal, id: string, request: SignPartsRequest): Promise<SignPartsAnswer> {
    const upload = await ownUpload(this.#ctx, caller, id);
    const policy = this.#ctx.policies.get(upload.ownerType);
    if (policy === undefined) throw new StowageError("UNKNOWN_OWNER_TYPE", `Unknown owner type '${upload.ownerType}'.`);
    return { parts: await this.#ctx.multipart.signParts(upload, request, policy.urlTtlSeconds) };
  }

  /** The parts a pending multipart upload already holds, so a client can resume it. */
  async listParts(caller: Principal, id: string): Promise<UploadPartsAnswer> {
    return this.#ctx.multipart.listParts(await ownUpload(this.#ctx, caller, id));
  }

  /** Assembles a multipart upload from its parts' ETags; then confirm it like any upload. */
  async complete(caller: Principal, id: string, parts: readonly CompletedPart[]): Promise<UploadView> {
    const upload = await ownUpload(this.#ctx, caller, id);
    await this.#ctx.multipart.complete(upload, parts);
    return toView(upload);
  }

  async get(caller: Principal, id: string): Promise<UploadView> {
    const [view] = await this.#views([await ownUpload(this.#ctx, caller, id)]);
    if (view === undefined) throw notFound();
    return this.#readable(caller, view.ownerType, view);
  }

  /** Views with their ready derivatives (one query for a whole page), each with its URL. */
  async #views(uploads: readonly UploadRecord[]): Promise<UploadView[]> {
    const views = uploads.map(toView);
    const withPresets = uploads.filter((u) => isServable(u.status) && this.#ctx.policies.get(u.ownerType)?.derivatives !== undefined);
    if (withPresets.length === 0) return views;
    const derivatives = (await this.#ctx.store.derivatives.listFor(withPresets.map((u) => u.id))).filter((d) => d.state === "ready");
    const byUpload = new Map<string, typeof derivatives>();
    for (const d of derivatives) byUpload.set(d.uploadId, [...(byUpload.get(d.uploadId) ?? []), d]);
    return Promise.all(views.map(async (view) => {
      const made = byUpload.get(view.id);
      if (made === undefined) return view;
      const isPublic = this.#ctx.policies.get(view.ownerType)?.visibility === "public";
      view.derivatives = await Promise.all(made.map(async (d) => ({
        name: d.name,
        url: (isPublic ? this.#ctx.driver.publicUrl(d) : undefined) ?? (await this.#ctx.downloads.get(d, "inline")).url,
        width: d.width ?? 0,
        height: d.height ?? 0,
        contentType: d.contentType ?? "application/octet-stream",
      })));
      return view;
    }));
  }

  async list(
    caller: Principal,
    query: { ownerType?: string | undefined; cursor?: string | undefined; limit: number },
  ): Promise<UploadPage> {
    requireUser(caller);
    const before = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
    if (query.cursor !== undefined && before === undefined) {
      throw new StowageError("INVALID_REQUEST", "The cursor is not valid.", { details: { field: "cursor" } });
    }
    const rows = await this.#ctx.store.listUploads({ userId: caller.userId, ownerType: query.ownerType, before, limit: query.limit + 1 });
    const page = rows.slice(0, query.limit);
    const last = page.at(-1);
    return {
      items: await this.#views(page),
      nextCursor: rows.length > query.limit && last !== undefined ? encodeCursor(last.id) : null,
    };
  }

  /** Deletes the upload's bytes, then its row, and gives its bytes back (see `remove.ts`). */
  remove(caller: Principal, id: string): Promise<void> {
    return remove(this.#ctx, caller, id);
  }

  /** A short-lived URL to download a confirmed upload under its original filename. */
  async download(caller: Principal, id: string): Promise<DownloadAnswer> {
    requireUser(caller);
    const upload = await ownUpload(this.#ctx, caller, id);
    if (!isServable(upload.status)) {
      throw new StowageError("UPLOAD_NOT_CONFIRMED", `This upload is ${upload.status}, not confirmed.`);
    }
    const signed = await signedGet(this.#ctx, upload);
    return { url: signed.url, expiresAt: new Date(signed.expiresAt).toISOString() };
  }

  /**
   * The owner types the caller may upload, with the limits a client can check before any byte
   * moves; through a link, only its owner type, as narrowed by the link.
   */
  policies(caller: Principal): PolicyList {
    const usable = [...this.#ctx.policies.values()].filter((policy) => mayUse(policy, caller.roles));
    const scoped = caller.kind === "link" ? usable.filter((p) => p.ownerType === caller.ownerType).map((p) => policyFor(p, caller)) : usable;
    const items = scoped.map((policy) => ({
      ownerType: policy.ownerType,
      allowedTypes: [...policy.allowedTypes],
      maxBytes: policy.maxBytes,
      visibility: policy.visibility,
      // A link names the ownerId itself when its owner type needs one.
      ownerIdRequired: caller.kind === "user" && templateNeedsOwnerId(policy.keyTemplate),
      multipartThresholdBytes: this.#ctx.multipart.thresholdFor(policy) ?? null,
    }));
    return { items };
  }

  /**
   * The caller's usage and reservations, and their organization's when the token names one.
   * Reservations of the caller's uploads whose URL expired are given back first.
   */
  async quota(caller: Principal): Promise<QuotaAnswer> {
    requireUser(caller);
    const { store } = this.#ctx;
    await store.releaseExpiredReservations({ userId: caller.userId, now: this.#ctx.now() });
    const [user, org] = await Promise.all(chargesOf(this.#ctx, caller.userId, caller.orgId).map((charge) => store.usage(charge)));
    if (user === undefined) throw new Error("no user quota subject");
    const answer: QuotaAnswer = {
      usedBytes: user.usedBytes,
      reservedBytes: user.reservedBytes,
      limitBytes: user.limitBytes,
      pendingUploads: user.pendingUploads,
    };
    if (org !== undefined && caller.orgId !== undefined) {
      answer.org = { id: caller.orgId, usedBytes: org.usedBytes, reservedBytes: org.reservedBytes, limitBytes: org.limitBytes };
    }
    return answer;
  }

  /** The scanner's verdict on a `scanning` upload, and what follows from it (`scan.ts`). For the scan subscriber. */
  scan(scanner: Scanner, id: string, signal?: AbortSignal): Promise<ScanOutcome> {
    return scanUpload(this.#ctx, scanner, id, signal);
  }

  /**
   * Uploads refused while still awaiting their bytes (a revoked link's): their multipart uploads
   * aborted and their staging objects retired, so no byte lands for them any more. Best effort:
   * what fails is logged, and a staging object left is the staging sweep's.
   */
  async retire(uploads: readonly UploadRecord[]): Promise<void> {
    for (const upload of uploads) {
      if (upload.multipart !== undefined) {
        await this.#ctx.multipart.abort(upload).catch((error: unknown) => this.#ctx.warn("multipart upload not aborted", upload, error));
      }
      await retireStagingLater(this.#ctx, upload);
    }
  }

  /** Makes a confirmed upload's derivatives (`derive.ts`). For the derivatives subscriber. */
  derive(id: string): Promise<number> {
    return makeDerivatives(this.#ctx, id);
  }

  /**
   * Links confirmed uploads to an application record, all or none. An upload that is not the
   * caller's, not confirmed, or attached to another record refuses the whole request.
   */
  async attach(caller: Principal, ids: readonly string[], parent: { type: string; id: string }): Promise<UploadView[]> {
    requireUser(caller);
    const owns = (upload: UploadRecord) => canAccess(caller, upload);
    const outcome = await this.#ctx.store.attachUploads({ owns, ids: [...new Set(ids)], parent, now: this.#ctx.now() });
    if (outcome.kind === "refused") {
      throw new StowageError("ATTACH_CONFLICT", "Nothing was attached: some uploads cannot be attached to this record.", {
        details: { refused: outcome.refused },
      });
    }
    return outcome.uploads.map(toView);
  }
}

/**
 * What a link's holder may learn of a refusal: that there is no room, never the creator's
 * figures (used, reserved, limit, pending). A user's own refusals keep theirs.
 */
function forHolder<T>(caller: Principal, work: Promise<T>): Promise<T> {
  if (caller.kind === "user") return work;
  return work.catch((error: unknown) => {
    if (!(error instanceof StowageError)) throw error;
    if (error.code === "QUOTA_EXCEEDED") throw new StowageError("QUOTA_EXCEEDED", "Whoever sent this upload link has no room for this file.");
    if (error.code === "TOO_MANY_PENDING_UPLOADS") {
      throw new StowageError("TOO_MANY_PENDING_UPLOADS", "Too many uploads are in progress for whoever sent this upload link; try again later.");
    }
    throw error;
  });
}

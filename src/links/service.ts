import type { CreatedLink, CreateLinkRequest, LinkPage, LinkWithUploads, UploadLink } from "../api/links.js";
import { type LinkPrincipal, type Principal, requireUser } from "../auth/principal.js";
import { StowageError } from "../errors.js";
import { templateNeedsOwnerId } from "../policies/key-template.js";
import { mayUse, type PolicySet } from "../policies/policy.js";
import type { LinkRecord, LinkStore } from "../store/link-store.js";
import type { RateLimiter } from "../uploads/rate-limit.js";
import type { UploadRecord } from "../uploads/record.js";
import { newUploadId } from "../uploads/upload-id.js";
import { decodeCursor, encodeCursor, toView } from "../uploads/views.js";
import { linkExpired, linkInvalid, linkRevoked } from "./errors.js";
import { narrowedLimits, policyFor } from "./scope.js";
import { checkLinkToken, newLinkToken, parseLinkToken } from "./token.js";

export interface LinkServiceOptions {
  store: LinkStore;
  policies: PolicySet;
  /** Where the upload page is: a link's URL is `<baseUrl>/#link=<token>`. */
  baseUrl: string;
  /** Requests made with a link's token, per client address and minute (wrong tokens too); absent: unlimited. */
  addressRateLimit: { limiter: RateLimiter; limit: number; windowSeconds: number } | undefined;
  /** A state change (and its events) committed: the dispatcher may look now. */
  onCommitted?: (() => void) | undefined;
  /** Uploads a revocation rejected: their multipart uploads aborted, their staging objects retired (`UploadService.retire`). */
  retire?: ((uploads: readonly UploadRecord[]) => Promise<void>) | undefined;
  now?: () => Date;
}

/** The most uploads `GET /v1/upload-links/{id}` lists. */
const UPLOADS_SHOWN = 100;

/** Compared against when no link has the token's id, so a missing link costs what a wrong secret does. */
const NO_LINK = { tokenHash: "0".repeat(64), expiresAt: new Date(0) };

/**
 * Upload links: a user makes one for an owner type, with limits; whoever holds its token can
 * upload for that user within them (see `auth/principal.ts` for what the holder may reach, and
 * the store's `createUpload` for how uses are admitted). Knows nothing of HTTP.
 */
export class LinkService {
  readonly #options: LinkServiceOptions;
  readonly #now: () => Date;

  constructor(options: LinkServiceOptions) {
    this.#options = options;
    this.#now = options.now ?? (() => new Date());
  }

  async create(caller: Principal, input: CreateLinkRequest): Promise<CreatedLink> {
    requireUser(caller);
    const policy = this.#options.policies.get(input.ownerType);
    if (policy === undefined) {
      throw new StowageError("UNKNOWN_OWNER_TYPE", `Unknown owner type '${input.ownerType}'.`, {
        details: { ownerTypes: [...this.#options.policies.keys()] },
      });
    }
    if (!mayUse(policy, caller.roles)) {
      throw new StowageError("FORBIDDEN", `You may not upload files of owner type '${policy.ownerType}'.`);
    }
    // The holder never picks where its uploads go: an owner type keyed by ownerId needs the link to name it.
    if (templateNeedsOwnerId(policy.keyTemplate) && input.ownerId === undefined) {
      throw new StowageError("OWNER_ID_REQUIRED", `Owner type '${policy.ownerType}' needs an ownerId, given when the link is made.`);
    }
    const limits = narrowedLimits(policy, input);
    const now = this.#now();
    const id = newUploadId();
    const { token, hash } = newLinkToken(id);
    const link: LinkRecord = {
      id,
      tokenHash: hash,
      userId: caller.userId,
      orgId: caller.orgId,
      roles: [...caller.roles],
      ownerType: policy.ownerType,
      ownerId: input.ownerId,
      maxUses: input.maxUses,
      maxBytes: limits.maxBytes,
      allowedTypes: limits.allowedTypes,
      note: input.note,
      createdAt: now,
      expiresAt: new Date(now.getTime() + input.expiresInSeconds * 1000),
      revokedAt: undefined,
    };
    await this.#options.store.create(link);
    return { ...this.#view(link, 0, now), token, url: `${this.#options.baseUrl}/#link=${token}` };
  }

  async list(caller: Principal, query: { cursor?: string | undefined; limit?: number | undefined }): Promise<LinkPage> {
    requireUser(caller);
    const limit = query.limit ?? 50;
    const before = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
    if (query.cursor !== undefined && before === undefined) {
      throw new StowageError("INVALID_REQUEST", "The cursor is not valid.", { details: { field: "cursor" } });
    }
    const rows = await this.#options.store.list({ userId: caller.userId, before, limit: limit + 1 });
    const page = rows.slice(0, limit);
    const now = this.#now();
    const uses = await this.#options.store.usesOf(page.map((link) => link.id), now);
    const last = page.at(-1);
    return {
      items: page.map((link) => this.#view(link, uses.get(link.id) ?? 0, now)),
      nextCursor: rows.length > limit && last !== undefined ? encodeCursor(last.id) : null,
    };
  }

  async get(caller: Principal, id: string): Promise<LinkWithUploads> {
    requireUser(caller);
    const link = await this.#own(caller.userId, id);
    const now = this.#now();
    const [uses, uploads] = await Promise.all([
      this.#options.store.usesOf([id], now),
      this.#options.store.uploadsOf(id, UPLOADS_SHOWN),
    ]);
    return { ...this.#view(link, uses.get(id) ?? 0, now), uploads: uploads.map(toView) };
  }

  /** Revokes the link; its uploads still awaiting their bytes are rejected with it. Again: no change. */
  async revoke(caller: Principal, id: string): Promise<void> {
    requireUser(caller);
    const revoked = await this.#options.store.revoke({ id, userId: caller.userId, now: this.#now() });
    if (revoked === undefined) throw noSuchLink();
    this.#options.onCommitted?.();
    // No byte lands for them any more: part URLs answer NoSuchUpload, a PUT URL finds its key sealed.
    await this.#options.retire?.(revoked.rejected);
  }

  /**
   * The principal a link's token stands for. Every such request counts against its address
   * first (wrong tokens too); then the token is checked like a signed scope: the secret, and only
   * then whether the link is revoked or expired, so a guess learns nothing about any link.
   */
  async authenticate(token: string, address: string): Promise<LinkPrincipal> {
    const rate = this.#options.addressRateLimit;
    if (rate !== undefined) {
      const decision = await rate.limiter.hit(`link:address:${address}`, rate.limit, rate.windowSeconds);
      if (!decision.allowed) {
        throw new StowageError("RATE_LIMITED", `Too many requests with upload links; try again in ${decision.retryAfterSeconds} s.`, {
          details: { retryAfterSeconds: decision.retryAfterSeconds },
        });
      }
    }
    const parsed = parseLinkToken(token);
    if (parsed === undefined) throw linkInvalid();
    const link = await this.#options.store.find(parsed.linkId);
    const now = this.#now();
    const check = checkLinkToken(parsed, link ?? NO_LINK, now);
    if (link === undefined || check === "mismatch") throw linkInvalid();
    if (link.revokedAt !== undefined) throw linkRevoked();
    if (check === "expired" || link.expiresAt.getTime() <= now.getTime()) throw linkExpired();
    return {
      kind: "link",
      linkId: link.id,
      userId: link.userId,
      orgId: link.orgId,
      roles: link.roles,
      ownerType: link.ownerType,
      ownerId: link.ownerId,
      maxBytes: link.maxBytes,
      allowedTypes: link.allowedTypes,
    };
  }

  async #own(userId: string, id: string): Promise<LinkRecord> {
    const link = await this.#options.store.find(id);
    if (link === undefined || link.userId !== userId) throw noSuchLink();
    return link;
  }

  #view(link: LinkRecord, uses: number, now: Date): UploadLink {
    const policy = this.#options.policies.get(link.ownerType);
    const scoped = policy === undefined ? undefined : policyFor(policy, { kind: "link", linkId: link.id, ...link });
    const status = link.revokedAt !== undefined ? "revoked" : link.expiresAt <= now ? "expired" : uses >= link.maxUses ? "used_up" : "active";
    return {
      id: link.id,
      ownerType: link.ownerType,
      ownerId: link.ownerId ?? null,
      maxUses: link.maxUses,
      uses,
      maxBytesPerUpload: scoped?.maxBytes ?? link.maxBytes ?? 0,
      allowedTypes: [...(scoped?.allowedTypes ?? link.allowedTypes ?? [])],
      note: link.note ?? null,
      status,
      createdAt: link.createdAt.toISOString(),
      expiresAt: link.expiresAt.toISOString(),
      revokedAt: link.revokedAt?.toISOString() ?? null,
    };
  }
}

function noSuchLink(): StowageError {
  return new StowageError("NOT_FOUND", "No such upload link.");
}

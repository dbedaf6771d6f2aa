import type { DerivativePreset } from "../derivatives/preset.js";

/**
 * An owner type's upload policy: what may be uploaded for it, where it goes, and who may use it.
 * Policies are plain data, declared in the config file (merged over {@link BUILTIN_POLICIES})
 * and validated once at start-up.
 */
export interface Policy {
  /** The owner type this policy governs, e.g. `avatar`. */
  readonly ownerType: string;
  /** Allowed MIME types (lower-case, no parameters). The sniffed type must be one of these. */
  readonly allowedTypes: readonly string[];
  /** Largest accepted object, in bytes. */
  readonly maxBytes: number;
  /** Lifetime of the presigned upload URL, in seconds. */
  readonly urlTtlSeconds: number;
  /**
   * Object key layout. Variables: `{userId}`, `{ownerId}`, `{id}`, `{ext}`, `{yyyy}`, `{mm}`, `{dd}`.
   * @example "avatars/{userId}/{id}.{ext}"
   */
  readonly keyTemplate: string;
  /** The bucket (a name from the storage config) objects of this type are stored in. */
  readonly bucket: string;
  /** Public objects get a CDN/public URL; private ones only short-lived signed URLs. */
  readonly visibility: "public" | "private";
  /** `Cache-Control` stored with the object and sent when it is served. */
  readonly cacheControl: string;
  /**
   * Uploads of at least this many bytes go in presigned parts (multipart) where the storage
   * driver supports it. Default 100 MiB.
   */
  readonly multipartThresholdBytes?: number;
  /** Compliance: confirmed media may not be deleted for this many days (e.g. 7 years). */
  readonly retentionDays?: number;
  /** Retention rule: the sweeper deletes confirmed media this many days after confirm. */
  readonly expireAfterDays?: number;
  /** Confirmed uploads not attached to a record within this many seconds are garbage. */
  readonly attachWithinSeconds?: number;
  /**
   * Confirmed uploads go through the virus scanner before they are served (`scanning`). On by
   * default for `chat_upload` and `document` when a scanner is configured (`STOWAGE_CLAMD`).
   */
  readonly scan?: boolean;
  /** JWT roles allowed to upload this type; absent means every authenticated user. */
  readonly allowedRoles?: readonly string[];
  /**
   * Images made from each upload of this type (thumbnails), by preset name. Fixed here, in the
   * server's config: clients never choose sizes or formats. Absent or `{}`: none. Only uploads
   * of a raster type (`src/derivatives/input-types.ts`) get them.
   * @example { thumb: { width: 256, height: 256, fit: "cover", format: "webp" } }
   */
  readonly derivatives?: Readonly<Record<string, DerivativePreset>>;
}

/** Policies by owner type. */
export type PolicySet = ReadonlyMap<string, Policy>;

/** Whether a caller with the given roles may use the policy. */
export function mayUse(policy: Policy, roles: readonly string[]): boolean {
  if (policy.allowedRoles === undefined) return true;
  return policy.allowedRoles.some((role) => roles.includes(role));
}

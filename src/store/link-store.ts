import type { UploadRecord } from "../uploads/record.js";

/** An upload link as stored: never its token, only the token's digest. */
export interface LinkRecord {
  id: string;
  tokenHash: string;
  /** The creator: uploads through the link are theirs, charged to their (and their organization's) quota. */
  userId: string;
  orgId: string | undefined;
  /** The creator's roles when the link was made. */
  roles: readonly string[];
  ownerType: string;
  ownerId: string | undefined;
  maxUses: number;
  /** Narrower than the policy's, when the creator said so. */
  maxBytes: number | undefined;
  allowedTypes: readonly string[] | undefined;
  note: string | undefined;
  createdAt: Date;
  expiresAt: Date;
  revokedAt: Date | undefined;
}

/** Why a presign through a link was refused, decided under the link's lock. */
export type LinkRefusal = "used-up" | "revoked" | "expired";

/**
 * Upload links (`src/links/`). A link's uses are not a counter but its live uploads, counted
 * when needed: confirmed ever, scanning, or pending with a live URL. So a rejected, expired or
 * aborted upload gives its use back by itself, and no path can forget to. Presigns through a link
 * are admitted in the store's `createUpload`, under the link row's lock.
 */
export interface LinkStore {
  create(link: LinkRecord): Promise<void>;
  find(id: string): Promise<LinkRecord | undefined>;
  /** A user's links, newest first, before the link id `before`. */
  list(query: { userId: string; before?: string | undefined; limit: number }): Promise<LinkRecord[]>;
  /** Each link's uses now (see above). */
  usesOf(ids: readonly string[], now: Date): Promise<Map<string, number>>;
  /** The uploads made through a link, newest first. */
  uploadsOf(linkId: string, limit: number): Promise<UploadRecord[]>;
  /**
   * Revokes the creator's link and, in the same transaction, rejects its uploads still awaiting
   * their bytes (code LINK_REVOKED, reservations released): none can be confirmed afterwards.
   * Answers the link and the uploads rejected (their staging and multipart uploads are the
   * caller's to retire). Revoking again changes nothing. Undefined: no such link of this user.
   */
  revoke(input: { id: string; userId: string; now: Date }): Promise<{ link: LinkRecord; rejected: UploadRecord[] } | undefined>;
}

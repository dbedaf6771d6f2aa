import { StowageError } from "../errors.js";

/**
 * Who is asking, once verified: a user (a JWT's subject) or an upload link (a token its creator
 * handed out). Both act for a user: the one whose uploads they make and whose quota they charge.
 */
export type Principal = UserPrincipal | LinkPrincipal;

interface ActingFor {
  /** The user the uploads belong to: the token's subject, or the link's creator. */
  userId: string;
  roles: readonly string[];
  /** From the token's `org` claim (the creator's, for a link): its quota is charged alongside the user's. */
  orgId?: string | undefined;
}

export interface UserPrincipal extends ActingFor {
  kind: "user";
}

/** Whoever holds an upload link's token: may upload, within the link's limits, and see only what it uploaded. */
export interface LinkPrincipal extends ActingFor {
  kind: "link";
  linkId: string;
  ownerType: string;
  /** Every upload through the link gets this ownerId; absent: the holder's, when the policy needs one. */
  ownerId: string | undefined;
  /** Narrower than the policy's, when the creator said so. */
  maxBytes: number | undefined;
  allowedTypes: readonly string[] | undefined;
}

/**
 * Whether `principal` may see and act on `upload`: a user on their own uploads (those made
 * through their links included); a link on the uploads made through it, and nothing else.
 */
export function canAccess(principal: Principal, upload: { userId: string; linkId: string | undefined }): boolean {
  return principal.kind === "user" ? upload.userId === principal.userId : upload.linkId === principal.linkId;
}

/** For what only a user may do (list, quota, attach, download, manage links): a link is refused as unauthenticated. */
export function requireUser(principal: Principal): asserts principal is UserPrincipal {
  if (principal.kind !== "user") throw userOnly();
}

export function userOnly(): StowageError {
  return new StowageError("UNAUTHENTICATED", "An upload link can only upload: this needs a user's 'Authorization: Bearer <token>'.");
}

import { randomBytes } from "node:crypto";
import { type ScopeCheck, checkScope, digestScope } from "../auth/signed-scope.js";

/**
 * An upload link's token: `<link id>.<secret>`, the secret 256 random bits (base64url). Only the
 * secret's digest is stored; the token is shown once, when the link is made.
 */
export interface LinkToken {
  linkId: string;
  secret: string;
}

const TOKEN = /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.([A-Za-z0-9_-]{43})$/;

export function newLinkToken(linkId: string): { token: string; hash: string } {
  const secret = randomBytes(32).toString("base64url");
  return { token: `${linkId}.${secret}`, hash: hashOf({ linkId, secret }) };
}

/** The token's parts, or undefined for anything that is not one (refused like a wrong token). */
export function parseLinkToken(token: string): LinkToken | undefined {
  const match = TOKEN.exec(token);
  if (match?.[1] === undefined || match[2] === undefined) return undefined;
  return { linkId: match[1], secret: match[2] };
}

/** What is stored: the digest of the secret, bound to its link (a stored digest cannot be moved to another row). */
export function hashOf(token: LinkToken): string {
  return digestScope(["stowage-link-v1", token.linkId, token.secret]);
}

/** The token against the stored digest (constant time), then the link's expiry: the signed-scope order. */
export function checkLinkToken(token: LinkToken, stored: { tokenHash: string; expiresAt: Date }, now: Date): ScopeCheck {
  return checkScope(hashOf(token), stored.tokenHash, stored.expiresAt.getTime(), now.getTime());
}

import { StowageError } from "../errors.js";
import type { TokenVerifier } from "./jwt.js";
import type { LinkPrincipal, Principal } from "./principal.js";

/** Turns a request's `Authorization` header (and the client's address) into the principal it proves. */
export type Authenticate = (authorization: string | undefined, address: string) => Promise<Principal>;

const BEARER = /^Bearer ([A-Za-z0-9_.~+/=-]+)$/;
const UPLOAD_LINK = /^UploadLink (\S{1,256})$/;

/**
 * `Authorization: Bearer <JWT>` names a user; `Authorization: UploadLink <token>` an upload
 * link's holder. Built once at start-up, used by every surface (REST, GraphQL).
 */
export function authenticator(
  verifyToken: TokenVerifier,
  links: { authenticate(token: string, address: string): Promise<LinkPrincipal> },
): Authenticate {
  return async (header, address) => {
    const bearer = header === undefined ? null : BEARER.exec(header);
    if (bearer?.[1] !== undefined) return verifyToken(bearer[1]);
    const link = header === undefined ? null : UPLOAD_LINK.exec(header);
    if (link?.[1] !== undefined) return links.authenticate(link[1], address);
    throw new StowageError("UNAUTHENTICATED", "Send 'Authorization: Bearer <token>' (or 'UploadLink <token>' with an upload link).");
  };
}

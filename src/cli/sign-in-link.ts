import { mintToken } from "../auth/jwt.js";
import type { Config } from "../config/schema.js";
import { TRY_IT_USER } from "./token-hint.js";

/** How long the token in the link lives: a working day, or less when this instance accepts less. */
export const SIGN_IN_LINK_TTL_SECONDS = 12 * 3600;

export interface SignInLink {
  url: string;
  /** The user the link signs in, when it carries a token. */
  user: string | undefined;
  ttlSeconds: number | undefined;
}

/**
 * The upload page's address as `serve` prints it. When the JWT secret is the one generated into
 * the data directory (the embedded default; never in production, which takes secrets only from
 * the environment), the link signs its reader in: a token for {@link TRY_IT_USER} rides in the
 * fragment, `#token=…`, which a browser never sends to any server, puts in a Referer or logs
 * in a proxy (a query string would be all three); the page moves it into sessionStorage and
 * out of the address bar. Otherwise the bare address, and the page asks for a token.
 */
export async function signInLink(config: Pick<Config, "baseUrl" | "jwt" | "jwtSecretFile">): Promise<SignInLink> {
  const page = `${config.baseUrl}/`;
  if (config.jwt.kind !== "secret" || config.jwtSecretFile === undefined) return { url: page, user: undefined, ttlSeconds: undefined };
  const ttlSeconds = Math.min(SIGN_IN_LINK_TTL_SECONDS, config.jwt.maxTtlSeconds ?? SIGN_IN_LINK_TTL_SECONDS);
  const token = await mintToken({
    secret: config.jwt.secret,
    subject: TRY_IT_USER,
    expiresInSeconds: ttlSeconds,
    issuer: config.jwt.issuer,
    audience: config.jwt.audience,
  });
  return { url: `${page}#token=${token}`, user: TRY_IT_USER, ttlSeconds };
}

import { DEFAULT_MAX_TTL_SECONDS, mintToken } from "../auth/jwt.js";
import type { Config } from "../config/schema.js";

export interface TokenOptions {
  user: string;
  role: string[];
  ttl: number;
  org?: string | undefined;
}

/** `stowage token`: mint a bearer token with the local secret, for trying Stowage out. */
export async function token(config: Config, options: TokenOptions): Promise<void> {
  if (config.jwt.kind !== "secret") {
    throw new Error(
      "Tokens can only be minted with a local secret; this instance verifies tokens from a JWKS URL.",
    );
  }
  const maxTtl = config.jwt.maxTtlSeconds ?? DEFAULT_MAX_TTL_SECONDS;
  if (options.ttl > maxTtl) {
    // Minting it would only hand out a token this instance refuses.
    throw new Error(
      `--ttl ${options.ttl} is longer than the ${maxTtl} s this instance accepts (STOWAGE_JWT_MAX_TTL_SECONDS); ` +
      "choose a shorter --ttl or raise the setting",
    );
  }
  const jwt = await mintToken({
    secret: config.jwt.secret,
    subject: options.user,
    expiresInSeconds: options.ttl,
    roles: options.role,
    org: options.org,
    issuer: config.jwt.issuer,
    audience: config.jwt.audience,
  });
  process.stdout.write(`${jwt}\n`);
}

import type { UserPrincipal } from "./principal.js";
import { createVerifier as createFastVerifier } from "fast-jwt";
import { createRemoteJWKSet, type JWTPayload, jwtVerify, SignJWT } from "jose";
import { StowageError } from "../errors.js";

interface JwtCommon {
  issuer?: string | undefined;
  audience?: string | undefined;
  /** The longest a token may live (see {@link checkLifetime}); default {@link DEFAULT_MAX_TTL_SECONDS}. */
  maxTtlSeconds?: number | undefined;
}

export type JwtConfig =
  | ({ kind: "secret"; secret: string } & JwtCommon)
  | ({ kind: "jwks"; jwksUrl: string } & JwtCommon);

/** 24 hours: a leaked token is dead within a day, whoever issued it. */
export const DEFAULT_MAX_TTL_SECONDS = 24 * 3600;

/** Verifies a bearer token and returns the caller it names. */
export type TokenVerifier = (token: string) => Promise<UserPrincipal>;

const ASYMMETRIC = [
  "RS256",
  "RS384",
  "RS512",
  "PS256",
  "PS384",
  "PS512",
  "ES256",
  "ES384",
  "EdDSA",
];
const SUBJECT = /^[^\u0000-\u001f\u007f]{1,255}$/;

/**
 * Builds the verifier once at start-up. Algorithms are pinned per key kind, so `alg: none`
 * and HS/RS confusion are refused before any claim is read.
 *
 * A shared secret (HS256) is checked by `fast-jwt` (the verifier behind `@fastify/jwt`):
 * 2.4 µs per token from its cache against 68–93 µs for jose's WebCrypto HMAC
 * (`npm run bench -- presign-stages`); the cache answers a token it has verified before,
 * never past the token's expiry. A JWKS URL goes through jose's remote key set (fetching, caching and
 * rotating the keys); asymmetric tokens are not cached.
 */
export function createVerifier(config: JwtConfig): TokenVerifier {
  const verify = config.kind === "secret" ? secretVerifier(config) : jwksVerifier(config);
  const maxTtlSeconds = config.maxTtlSeconds ?? DEFAULT_MAX_TTL_SECONDS;
  return async (token) => {
    let payload: JWTPayload;
    try {
      payload = await verify(token);
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      const expired = code === "FAST_JWT_EXPIRED" || code === "ERR_JWT_EXPIRED";
      throw new StowageError("UNAUTHENTICATED", expired ? "The bearer token has expired." : "The bearer token is invalid.", {
        cause: error,
      });
    }
    checkLifetime(payload, maxTtlSeconds, Date.now() / 1000);
    if (typeof payload.sub !== "string" || !SUBJECT.test(payload.sub)) {
      throw new StowageError("UNAUTHENTICATED", "The bearer token has no usable subject.");
    }
    const org = typeof payload.org === "string" && SUBJECT.test(payload.org) ? payload.org : undefined;
    return { kind: "user", userId: payload.sub, roles: rolesOf(payload), orgId: org };
  };
}

const CLOCK_TOLERANCE_SECONDS = 5;

/**
 * Every token must expire, and soon enough: a token without `exp` would be good forever, so a
 * leaked one could never be revoked short of rotating the key. Two bounds, because either alone
 * can be dodged: `exp` at most `maxTtlSeconds` from now (holds whatever `iat` claims, or without
 * one), and, when `iat` is present, `exp − iat` at most `maxTtlSeconds` (so a 48-hour token is
 * refused for its whole life, not only for its first day). Both libraries have already checked
 * that `exp` has not passed.
 */
export function checkLifetime(payload: JWTPayload, maxTtlSeconds: number, nowSeconds: number): void {
  const { exp, iat } = payload;
  if (typeof exp !== "number" || !Number.isFinite(exp)) {
    throw new StowageError("UNAUTHENTICATED", "The bearer token has no expiry (exp claim); only tokens that expire are accepted.");
  }
  const lifetime = typeof iat === "number" && Number.isFinite(iat) ? exp - iat : 0;
  if (exp - nowSeconds > maxTtlSeconds + CLOCK_TOLERANCE_SECONDS || lifetime > maxTtlSeconds) {
    throw new StowageError(
      "UNAUTHENTICATED",
      `The bearer token lives too long: this server accepts tokens that expire within ${maxTtlSeconds} s of being issued.`,
    );
  }
}

function secretVerifier(config: Extract<JwtConfig, { kind: "secret" }>): (token: string) => Promise<JWTPayload> {
  const verify = createFastVerifier({
    key: config.secret,
    algorithms: ["HS256"],
    // fast-jwt checks `iss`/`aud` only when present: a configured one must also be required.
    ...(config.issuer === undefined ? {} : { allowedIss: config.issuer }),
    ...(config.audience === undefined ? {} : { allowedAud: config.audience }),
    requiredClaims: [...(config.issuer === undefined ? [] : ["iss"]), ...(config.audience === undefined ? [] : ["aud"])],
    clockTolerance: CLOCK_TOLERANCE_SECONDS * 1000,
    // Verified tokens, keyed by a hash of the whole token; an entry never outlives its `exp`.
    // A refusal is remembered for the clock tolerance (5 s): a resent bad token costs one check.
    cache: 10_000,
    cacheTTL: 10 * 60 * 1000,
  });
  return (token) => Promise.resolve(verify(token) as JWTPayload);
}

function jwksVerifier(config: Extract<JwtConfig, { kind: "jwks" }>): (token: string) => Promise<JWTPayload> {
  const keys = createRemoteJWKSet(new URL(config.jwksUrl));
  const options = {
    algorithms: ASYMMETRIC,
    ...(config.issuer === undefined ? {} : { issuer: config.issuer }),
    ...(config.audience === undefined ? {} : { audience: config.audience }),
    clockTolerance: CLOCK_TOLERANCE_SECONDS,
  };
  return async (token) => (await jwtVerify(token, keys, options)).payload;
}

function rolesOf(payload: JWTPayload): string[] {
  const roles = payload.roles ?? payload.role;
  if (typeof roles === "string") return [roles];
  if (Array.isArray(roles)) return roles.filter((r): r is string => typeof r === "string");
  return [];
}

/**
 * Mints an HS256 token for local trying and tests (`stowage token`).
 *
 * @example
 * await mintToken({ secret, subject: "alice", expiresInSeconds: 3600 });
 */
export async function mintToken(options: {
  secret: string;
  subject: string;
  expiresInSeconds: number;
  roles?: readonly string[] | undefined;
  /** An organization whose quota is charged along with the user's. */
  org?: string | undefined;
  issuer?: string | undefined;
  audience?: string | undefined;
}): Promise<string> {
  const claims: Record<string, unknown> = {};
  if (options.roles?.length) claims.roles = [...options.roles];
  if (options.org !== undefined) claims.org = options.org;
  let jwt = new SignJWT(claims)
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setSubject(options.subject)
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + options.expiresInSeconds);
  if (options.issuer !== undefined) jwt = jwt.setIssuer(options.issuer);
  if (options.audience !== undefined) jwt = jwt.setAudience(options.audience);
  return jwt.sign(new TextEncoder().encode(options.secret));
}

import {
  createRemoteJWKSet,
  type JWTPayload,
  type JWTVerifyGetKey,
  jwtVerify,
  SignJWT,
} from "jose";
import { StowageError } from "../errors.js";
import type { Caller } from "../uploads/service.js";

export type JwtConfig =
  | { kind: "secret"; secret: string; issuer?: string | undefined; audience?: string | undefined }
  | { kind: "jwks"; jwksUrl: string; issuer?: string | undefined; audience?: string | undefined };

/** Verifies a bearer token and returns the caller it names. */
export type TokenVerifier = (token: string) => Promise<Caller>;

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
 * and HS/RS confusion are refused by jose before any claim is read.
 */
export function createVerifier(config: JwtConfig): TokenVerifier {
  const options = {
    algorithms: config.kind === "secret" ? ["HS256"] : ASYMMETRIC,
    ...(config.issuer === undefined ? {} : { issuer: config.issuer }),
    ...(config.audience === undefined ? {} : { audience: config.audience }),
    clockTolerance: 5,
  };
  const key: Uint8Array | JWTVerifyGetKey =
    config.kind === "secret"
      ? new TextEncoder().encode(config.secret)
      : createRemoteJWKSet(new URL(config.jwksUrl));

  return async (token) => {
    let payload: JWTPayload;
    try {
      // jose's overloads differ for a key and a key function; both are valid here.
      ({ payload } =
        typeof key === "function"
          ? await jwtVerify(token, key, options)
          : await jwtVerify(token, key, options));
    } catch (error) {
      throw new StowageError("UNAUTHENTICATED", "The bearer token is invalid or expired.", {
        cause: error,
      });
    }
    if (typeof payload.sub !== "string" || !SUBJECT.test(payload.sub)) {
      throw new StowageError("UNAUTHENTICATED", "The bearer token has no usable subject.");
    }
    const org = typeof payload.org === "string" && SUBJECT.test(payload.org) ? payload.org : undefined;
    return { userId: payload.sub, roles: rolesOf(payload), orgId: org };
  };
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

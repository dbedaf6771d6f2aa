import { createHash, createHmac } from "node:crypto";
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from "@smithy/types";

/** RFC 3986 encoding, as SigV4 canonicalizes it (encodeURIComponent leaves `!'()*` alone). */
export function escapeUri(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

export interface PresignerOptions {
  /** The endpoint browsers resolve: the signature covers its host, so it must be the public one. */
  endpoint: URL;
  region: string;
  forcePathStyle: boolean;
  credentials: AwsCredentialIdentityProvider;
  /** Milliseconds to add to the local clock (the SDK client's measured skew). */
  clockOffset: () => number;
}

export interface PresignInput {
  method: "PUT" | "GET";
  bucket: string;
  key: string;
  expiresInSeconds: number;
  /** Headers the client must send; all are signed, so the store refuses any other value. */
  headers?: Record<string, string>;
  query?: Record<string, string>;
}

/**
 * Presigned S3 URLs: SigV4 query-string signing over `node:crypto`. Presigning is on the hot
 * path of every upload: `getSignedUrl` runs a whole command middleware stack per URL (~214 µs
 * measured here), `@smithy/signature-v4` called directly about twice what this takes (`npm run
 * bench -- signing`). It writes the URLs `@smithy/signature-v4` wrote for the same request, byte
 * for byte: `presigner-differential.test.ts` compares the two on thousands of random requests,
 * and the S3 tests have RGW accept them. The AWS SDK still signs every other call.
 *
 * SigV4 as S3 documents it for presigned URLs: the canonical request is the method, the path
 * (escaped once), the query sorted by escaped name, every header given (lower-cased, sorted,
 * whitespace folded), the list of their names and `UNSIGNED-PAYLOAD`; its SHA-256 goes into the
 * string to sign, signed with the key derived for the day, region and service (cached per day).
 */
export class Presigner {
  readonly #options: PresignerOptions;
  #signingKey: { scope: string; credentials: AwsCredentialIdentity; key: Buffer } | undefined;

  constructor(options: PresignerOptions) {
    this.#options = { ...options, credentials: reusedCredentials(options.credentials) };
  }

  async presign(input: PresignInput): Promise<{ url: string; expiresAt: Date }> {
    const { endpoint, forcePathStyle, region } = this.#options;
    const escapedKey = escapeUri(input.key).replaceAll("%2F", "/");
    const hostname = forcePathStyle ? endpoint.hostname : `${input.bucket}.${endpoint.hostname}`;
    const host = endpoint.port === "" ? hostname : `${hostname}:${endpoint.port}`;
    const basePath = endpoint.pathname.replace(/\/+$/, "");
    const path = forcePathStyle ? `${basePath}/${escapeUri(input.bucket)}/${escapedKey}` : `${basePath}/${escapedKey}`;
    // Whole seconds: X-Amz-Date has no milliseconds, and expiresAt must not outlive the URL.
    const now = new Date(Math.floor((Date.now() + this.#options.clockOffset()) / 1000) * 1000);
    const credentials = await this.#options.credentials();
    const expiresIn = cappedExpiry(credentials, input.expiresInSeconds, now);
    const longDate = now.toISOString().replace(/[-:]|\.\d{3}/g, "");
    const scope = `${longDate.slice(0, 8)}/${region}/s3/aws4_request`;

    // The query, in the order the URL carries it: the caller's, then every `x-amz-*` header
    // (moved into the query, as presigned requests must), then the SigV4 parameters.
    const query = new Map(Object.entries(input.query ?? {}));
    const headers = new Map<string, string>([["host", host]]);
    for (const [name, value] of Object.entries(input.headers ?? {})) {
      const lower = name.toLowerCase();
      if (lower.startsWith("x-amz-")) query.set(name, value);
      else headers.set(lower, value);
    }
    // The bytes are not known when signing: S3's documented value for presigned requests.
    query.set("x-amz-content-sha256", "UNSIGNED-PAYLOAD");
    if (credentials.sessionToken !== undefined && credentials.sessionToken !== "") query.set("X-Amz-Security-Token", credentials.sessionToken);
    query.set("X-Amz-Algorithm", ALGORITHM);
    query.set("X-Amz-Credential", `${credentials.accessKeyId}/${scope}`);
    query.set("X-Amz-Date", longDate);
    query.set("X-Amz-Expires", String(expiresIn));
    // Every header the client is told to send is signed, Cache-Control too (SDK signers skip
    // it by default): changing or dropping any of them breaks the URL.
    const names = [...headers.keys()].sort();
    const signedHeaders = names.join(";");
    query.set("X-Amz-SignedHeaders", signedHeaders);

    const escaped = [...query].map(([name, value]) => [escapeUri(name), escapeUri(value)] as const);
    // Sorted by escaped name (code-unit order, which is byte order for escaped ASCII); names are unique.
    const canonicalQuery = [...escaped]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([name, value]) => `${name}=${value}`)
      .join("&");
    const canonicalHeaders = names.map((name) => `${name}:${foldWhitespace(headers.get(name) ?? "")}\n`).join("");
    const canonicalRequest = `${input.method}\n${path}\n${canonicalQuery}\n${canonicalHeaders}\n${signedHeaders}\nUNSIGNED-PAYLOAD`;
    const stringToSign = `${ALGORITHM}\n${longDate}\n${scope}\n${createHash("sha256").update(canonicalRequest, "utf8").digest("hex")}`;
    const signature = createHmac("sha256", this.#keyFor(credentials, scope)).update(stringToSign, "utf8").digest("hex");
    const search = escaped.map(([name, value]) => `${name}=${value}`).join("&");
    return {
      url: `${endpoint.protocol}//${host}${path}?${search}&X-Amz-Signature=${signature}`,
      expiresAt: new Date(now.getTime() + expiresIn * 1000),
    };
  }

  /** The signing key of a day, region and service: four HMACs, derived once a day per credentials. */
  #keyFor(credentials: AwsCredentialIdentity, scope: string): Buffer {
    const cached = this.#signingKey;
    if (cached !== undefined && cached.scope === scope && cached.credentials === credentials) return cached.key;
    const [day, region, service, terminator] = scope.split("/") as [string, string, string, string];
    let key: Buffer | string = `AWS4${credentials.secretAccessKey}`;
    for (const part of [day, region, service, terminator]) key = createHmac("sha256", key).update(part, "utf8").digest();
    this.#signingKey = { scope, credentials, key: key as Buffer };
    return key as Buffer;
  }
}

const ALGORITHM = "AWS4-HMAC-SHA256";

/** SigV4's canonical header value: line breaks as spaces, runs of blanks as one, no blank at either end. */
function foldWhitespace(value: string): string {
  return value.replace(/[\r\n]/g, " ").replace(/[ \t]+/g, " ").replace(/^ | $/g, "");
}

/**
 * A presigned URL dies with the credentials that signed it: with temporary credentials
 * (STS, an instance role) the URL may not outlive their expiration.
 */
function cappedExpiry(credentials: AwsCredentialIdentity, expiresInSeconds: number, now: Date): number {
  const limit = credentials.expiration === undefined
    ? 604800 // SigV4's own maximum: 7 days.
    : Math.floor((credentials.expiration.getTime() - now.getTime()) / 1000);
  return Math.max(1, Math.min(Math.floor(expiresInSeconds), limit, 604800));
}

/** Refresh temporary credentials this long before they expire. */
const CREDENTIALS_MARGIN_MS = 5 * 60 * 1000;

/**
 * The SDK client's credential provider walks its identity machinery on every call, and a URL
 * asked for it twice (`npm run bench -- presign-stages`, SigV4 presignPut: 53–60 µs before,
 * 46–50 µs after). The resolved credentials are reused until five minutes before they expire
 * (never, for static keys), as the SDK's own memoization does; a failed resolution is not
 * kept, so the next URL asks again.
 */
export function reusedCredentials(provider: AwsCredentialIdentityProvider): AwsCredentialIdentityProvider {
  let current: Promise<AwsCredentialIdentity> | undefined;
  let refreshAt = 0;
  return () => {
    if (current === undefined || Date.now() >= refreshAt) {
      const pending = provider();
      current = pending;
      refreshAt = Number.POSITIVE_INFINITY;
      pending.then(
        (identity) => {
          if (current !== pending) return;
          refreshAt = identity.expiration === undefined ? Number.POSITIVE_INFINITY : identity.expiration.getTime() - CREDENTIALS_MARGIN_MS;
        },
        () => {
          if (current === pending) current = undefined;
        },
      );
    }
    return current;
  };
}

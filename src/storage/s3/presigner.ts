import { Hash } from "@smithy/hash-node";
import { HttpRequest } from "@smithy/protocol-http";
import { SignatureV4 } from "@smithy/signature-v4";
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
 * Presigned S3 URLs from the SDK's own SigV4 signer, called directly. Presigning is on the hot
 * path of every upload: `getSignedUrl` runs a whole command middleware stack per URL (~214 µs
 * measured here) where the signer alone takes ~19 µs. `SignatureV4` caches the derived signing
 * key per day/region/service, and `@smithy/hash-node` hashes with `node:crypto`.
 */
export class Presigner {
  readonly #options: PresignerOptions;
  readonly #signer: SignatureV4;

  constructor(options: PresignerOptions) {
    this.#options = { ...options, credentials: reusedCredentials(options.credentials) };
    this.#signer = new SignatureV4({
      service: "s3",
      region: options.region,
      credentials: this.#options.credentials,
      sha256: Hash.bind(null, "sha256"),
      // S3 wants the path escaped exactly once; we escape it ourselves below.
      uriEscapePath: false,
      applyChecksum: false,
    });
  }

  async presign(input: PresignInput): Promise<{ url: string; expiresAt: Date }> {
    const { endpoint, forcePathStyle } = this.#options;
    const escapedKey = escapeUri(input.key).replaceAll("%2F", "/");
    const hostname = forcePathStyle ? endpoint.hostname : `${input.bucket}.${endpoint.hostname}`;
    const host = endpoint.port === "" ? hostname : `${hostname}:${endpoint.port}`;
    const basePath = endpoint.pathname.replace(/\/+$/, "");
    const path = forcePathStyle ? `${basePath}/${escapeUri(input.bucket)}/${escapedKey}` : `${basePath}/${escapedKey}`;
    // Whole seconds: X-Amz-Date has no milliseconds, and expiresAt must not outlive the URL.
    const now = new Date(Math.floor((Date.now() + this.#options.clockOffset()) / 1000) * 1000);
    const expiresIn = await this.#cappedExpiry(input.expiresInSeconds, now);
    const request = new HttpRequest({
      protocol: endpoint.protocol,
      hostname,
      ...(endpoint.port === "" ? {} : { port: Number(endpoint.port) }),
      method: input.method,
      path,
      query: { ...input.query },
      headers: {
        host,
        ...lowerCaseKeys(input.headers ?? {}),
        // The bytes are not known when signing: S3's documented value for presigned requests.
        "x-amz-content-sha256": "UNSIGNED-PAYLOAD",
      },
    });
    // The signer skips a fixed list of headers by default (Cache-Control among them): name the
    // ones we hand the client explicitly, so changing or dropping any of them breaks the URL.
    const signableHeaders = new Set(Object.keys(request.headers));
    const signed = await this.#signer.presign(request, { expiresIn, signingDate: now, signableHeaders });
    const query = Object.entries(signed.query ?? {})
      .flatMap(([name, value]) => (Array.isArray(value) ? value.map((v) => [name, v]) : [[name, value ?? ""]]))
      .map(([name, value]) => `${escapeUri(name ?? "")}=${escapeUri(value ?? "")}`)
      .join("&");
    return { url: `${endpoint.protocol}//${host}${path}?${query}`, expiresAt: new Date(now.getTime() + expiresIn * 1000) };
  }

  /**
   * A presigned URL dies with the credentials that signed it: with temporary credentials
   * (STS, an instance role) the URL may not outlive their expiration.
   */
  async #cappedExpiry(expiresInSeconds: number, now: Date): Promise<number> {
    const credentials: AwsCredentialIdentity = await this.#options.credentials();
    const limit = credentials.expiration === undefined
      ? 604800 // SigV4's own maximum: 7 days.
      : Math.floor((credentials.expiration.getTime() - now.getTime()) / 1000);
    return Math.max(1, Math.min(Math.floor(expiresInSeconds), limit, 604800));
  }
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

function lowerCaseKeys(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
}

import { createHash, createHmac, timingSafeEqual } from "node:crypto";

/**
 * Signed scopes: a credential that grants one thing (a URL's method, bucket, key and headers;
 * an upload link's id) until a time. One place decides, in one order, whether it holds: the
 * signature or digest first, in constant time, and only then the expiry, so a forged credential
 * learns nothing (not even whether the thing it names has expired). Used by the local driver's
 * signed URLs (`storage/local/signed-url.ts`) and by upload-link tokens (`links/token.ts`).
 */
export type ScopeCheck = "valid" | "mismatch" | "expired";

/** An HMAC-SHA256 of the scope's fields (JSON of a fixed-order array: unambiguous whatever they hold), base64url. */
export function signScope(fields: readonly unknown[], secret: string): string {
  return createHmac("sha256", secret).update(JSON.stringify(fields)).digest("base64url");
}

/** An unkeyed SHA-256 of the scope's fields, hex: what is stored for a credential that is itself random. */
export function digestScope(fields: readonly unknown[]): string {
  return createHash("sha256").update(JSON.stringify(fields)).digest("hex");
}

/** `given` against `expected` in constant time, then the expiry (`expiresAt` and `now` in the same unit). */
export function checkScope(given: string, expected: string, expiresAt: number, now: number): ScopeCheck {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  if (a.length !== b.length || !timingSafeEqual(a, b)) return "mismatch";
  return expiresAt < now ? "expired" : "valid";
}

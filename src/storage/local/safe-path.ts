import { isAbsolute, join, relative, sep } from "node:path";
import { StowageError } from "../../errors.js";

const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const MAX_KEY_BYTES = 1024; // S3's limit, so a key valid here is valid there too.

/** Why `key` is not a plain relative object key (no traversal, no control characters); `undefined` when it is. */
export function keyProblem(key: string): string | undefined {
  if (key.length === 0) return "it is empty";
  if (Buffer.byteLength(key) > MAX_KEY_BYTES) return `it is longer than ${MAX_KEY_BYTES} bytes`;
  if (key.startsWith("/")) return "it starts with '/'";
  // A separator on Windows, and a way to smuggle one into a key that looks like one segment.
  if (key.includes("\\")) return "it contains a backslash";
  if (/[\u0000-\u001f\u007f]/.test(key)) return "it contains a control character";
  if (key.split("/").some((segment) => segment === "" || segment === "." || segment === "..")) {
    return "it has an empty, '.' or '..' segment";
  }
  return undefined;
}

/** Throws unless `key` is a plain relative object key (see {@link keyProblem}). */
export function assertSafeKey(key: string): void {
  // The reason stays out of the answer: to a client this is just an object that does not exist.
  if (keyProblem(key) !== undefined) throw new StowageError("NOT_FOUND", "No such object.");
}

export function assertSafeBucket(bucket: string): void {
  if (!BUCKET.test(bucket)) throw new StowageError("NOT_FOUND", "No such bucket.");
}

/**
 * The one place a bucket and key become a filesystem path. The key is checked segment by
 * segment, and the joined path is checked again to lie inside `root`, so neither `..`,
 * absolute paths nor odd separators can leave it.
 */
export function resolveInside(root: string, bucket: string, key: string, suffix = ""): string {
  assertSafeBucket(bucket);
  assertSafeKey(key);
  const path = join(root, bucket, key) + suffix;
  const rel = relative(root, path);
  if (rel.startsWith(`..${sep}`) || rel === ".." || isAbsolute(rel)) {
    throw new StowageError("NOT_FOUND", "No such object.");
  }
  return path;
}

/**
 * MIME type helpers. The extension of an object key comes from the type the server accepted,
 * never from the user's filename.
 */

const EXTENSIONS: Readonly<Record<string, string>> = {
  "image/jpeg": "jpg",
  "image/png": "png",
  "image/webp": "webp",
  "image/gif": "gif",
  "image/heic": "heic",
  "image/avif": "avif",
  "application/pdf": "pdf",
  "application/zip": "zip",
  "audio/webm": "webm",
  "audio/mpeg": "mp3",
  "audio/ogg": "ogg",
  "audio/mp4": "m4a",
  "video/mp4": "mp4",
  "video/webm": "webm",
  "video/quicktime": "mov",
  "text/plain": "txt",
  "text/csv": "csv",
  "application/json": "json",
};

/** `Image/PNG; charset=x` → `image/png`. */
export function normalizeMimeType(value: string): string {
  return (value.split(";", 1)[0] ?? "").trim().toLowerCase();
}

/** The key extension for a MIME type, `bin` when unknown. */
export function extensionFor(mimeType: string): string {
  return Object.hasOwn(EXTENSIONS, mimeType) ? (EXTENSIONS[mimeType] as string) : "bin";
}

/** RFC 6838 shape: `type/subtype` of restricted name characters. */
export function isMimeType(value: string): boolean {
  return /^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}\/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$/.test(value);
}

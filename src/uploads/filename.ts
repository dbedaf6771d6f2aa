const MAX_LENGTH = 255;

/** C0/C1 controls, and the invisible marks and bidi overrides that make "evil<U+202E>gnp.exe" look like a PNG. */
const UNSAFE =
  /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/**
 * The user's filename as we keep it: only for display and `Content-Disposition`, never for a
 * path. Directory parts and unsafe characters are dropped; the result is trimmed to 255
 * characters and never empty.
 */
export function sanitizeFilename(raw: string): string {
  const base = raw.split(/[/\\]/).pop() ?? "";
  const cleaned = base.replace(UNSAFE, "").trim();
  const limited = Array.from(cleaned).slice(0, MAX_LENGTH).join("");
  return limited === "" || limited === "." || limited === ".." ? "file" : limited;
}

const MAX_LENGTH = 255;

/**
 * The user's filename as we keep it: only for display and `Content-Disposition`, never for a
 * path. Directory parts, control and bidi-override characters are dropped; the result is
 * trimmed to 255 characters and never empty.
 */
export function sanitizeFilename(raw: string): string {
  const base = raw.split(/[/\\]/).pop() ?? "";
  const cleaned = base
    // biome-ignore lint/suspicious/noControlCharactersInRegex: stripping control characters is the point
    .replace(/[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, "")
    .trim();
  const limited = Array.from(cleaned).slice(0, MAX_LENGTH).join("");
  return limited === "" || limited === "." || limited === ".." ? "file" : limited;
}

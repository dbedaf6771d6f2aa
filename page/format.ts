const BINARY = ["KiB", "MiB", "GiB", "TiB"] as const;
const DECIMAL = ["kB", "MB", "GB", "TB"] as const;

/**
 * A byte count for people. Limits are set round, some in decimal units (the built-in policies'
 * 5 MB) and some in binary ones (the 100 MiB quota): a count that is round in either is named
 * exactly in it, unless that takes four digits (1.5 MiB, not 1536 KiB). Anything else (usage,
 * file sizes) is shown approximately, in binary units: `4.8 MiB`.
 */
export function formatBytes(bytes: number): string {
  if (bytes < 1000) return bytes === 1 ? "1 byte" : `${bytes} bytes`;
  for (let power = BINARY.length; power >= 1; power--) {
    const binary = bytes / 1024 ** power;
    const decimal = bytes / 1000 ** power;
    if (Number.isInteger(binary) && binary < 1000) return `${binary} ${BINARY[power - 1] ?? ""}`;
    if (Number.isInteger(decimal) && decimal < 1000) return `${decimal} ${DECIMAL[power - 1] ?? ""}`;
  }
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < BINARY.length - 1) {
    value /= 1024;
    unit++;
  }
  const digits = new Intl.NumberFormat("en", { maximumFractionDigits: value < 10 ? 1 : 0 });
  return `${digits.format(value)} ${BINARY[unit] ?? ""}`;
}

/** Names of common types, with the article each takes ("an MP4 video": articles follow the sound). */
const NAMES: Record<string, [string, string]> = {
  "image/jpeg": ["a", "JPEG image"],
  "image/png": ["a", "PNG image"],
  "image/gif": ["a", "GIF image"],
  "image/webp": ["a", "WebP image"],
  "image/avif": ["an", "AVIF image"],
  "image/heic": ["a", "HEIC photo"],
  "application/pdf": ["a", "PDF"],
  "video/mp4": ["an", "MP4 video"],
  "video/webm": ["a", "WebM video"],
  "video/quicktime": ["a", "QuickTime video"],
  "audio/mpeg": ["an", "MP3"],
  "audio/ogg": ["an", "Ogg audio file"],
  "audio/webm": ["a", "WebM audio file"],
  "audio/mp4": ["an", "M4A audio file"],
  "application/zip": ["a", "ZIP archive"],
  "text/plain": ["a", "text file"],
  "text/csv": ["a", "CSV file"],
};

/** A MIME type for people: `image/png` → `PNG image`; unknown ones as they are. */
export function typeName(mime: string): string {
  return NAMES[mime]?.[1] ?? mime;
}

/** The same with its article, for sentences: `a PNG image (image/png)`, or `application/x-foo`. */
export function aTypeName(mime: string): string {
  const known = NAMES[mime];
  return known === undefined ? mime : `${known[0]} ${known[1]} (${mime})`;
}

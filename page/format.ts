const BINARY = ["KiB", "MiB", "GiB", "TiB"] as const;
const DECIMAL = ["kB", "MB", "GB", "TB"] as const;

/**
 * A byte count for people. Limits are set round, some in decimal units (the built-in policies'
 * 5 MB) and some in binary ones (the 100 MiB quota): a count that is round in either is named
 * exactly in it. Anything else (usage) is shown approximately, in binary units: `4.8 MiB`.
 */
export function formatBytes(bytes: number): string {
  if (bytes < 1000) return bytes === 1 ? "1 byte" : `${bytes} bytes`;
  for (let power = BINARY.length; power >= 1; power--) {
    if (bytes % 1024 ** power === 0) return `${bytes / 1024 ** power} ${BINARY[power - 1] ?? ""}`;
    if (bytes % 1000 ** power === 0) return `${bytes / 1000 ** power} ${DECIMAL[power - 1] ?? ""}`;
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

/**
 * A `Retry-After` value in milliseconds from `now` (RFC 9110 §10.2.3: delay-seconds or an
 * HTTP-date), at most `capMs`; undefined when absent or unreadable. A date in the past is 0.
 * The cap keeps a receiver from parking messages for days with one header.
 */
export function parseRetryAfter(value: string | null | undefined, now: Date, capMs: number): number | undefined {
  const raw = value?.trim();
  if (raw === undefined || raw === "") return undefined;
  let ms: number;
  if (/^\d+$/.test(raw)) ms = Number(raw) * 1000;
  else {
    // Only the date forms: Date.parse alone would also take "5" or "tomorrow" in some engines.
    if (!/^[A-Za-z]{3,9},? /.test(raw)) return undefined;
    const at = Date.parse(raw);
    if (Number.isNaN(at)) return undefined;
    ms = at - now.getTime();
  }
  return Math.min(Math.max(ms, 0), capMs);
}

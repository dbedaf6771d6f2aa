const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

/**
 * How long to wait after each failed attempt: after attempt 1, 5 s; after attempt 9, 14 h.
 * Counted from the first attempt, retries fall at about 5 s, 1 m, 5 m, 15 m, 45 m, 2 h, 5 h, 11 h
 * and 25 h: quick tries ride out a blip or a deploy, and the tail covers a receiver that is down
 * for most of a day (Svix's schedule spans ~28 h, Stripe's three days). 25 h in all, so the ±20 %
 * jitter keeps the whole span within 20 to 30 h whatever the dice say. Each step is more than
 * 1.5 times the one before, so even with jitter every wait is longer than the last.
 */
export const RETRY_DELAYS_MS: readonly number[] = [
  5 * SECOND, 55 * SECOND, 4 * MINUTE, 10 * MINUTE, 30 * MINUTE, 75 * MINUTE, 3 * HOUR, 6 * HOUR, 14 * HOUR,
];

/** The first attempt and one per delay; a message still failing after this many goes to the dead letters. */
export const MAX_ATTEMPTS = RETRY_DELAYS_MS.length + 1;

/** The longest single wait: a receiver's `Retry-After` is honoured up to this, never beyond. */
export const MAX_RETRY_DELAY_MS = Math.max(...RETRY_DELAYS_MS);

/**
 * Each wait is stretched or shrunk by up to this fraction, at random: after an outage, the
 * backlog of every endpoint's messages then comes back spread out, not all in the same second.
 */
export const JITTER = 0.2;

export interface ScheduleOptions {
  /** Uniform in [0, 1): `Math.random` unless a test fixes it. */
  random?: () => number;
  /** The receiver's `Retry-After` for this attempt: the next one comes no earlier. */
  retryAfterMs?: number | undefined;
}

/**
 * When to try again after attempt number `attempt` (1 is the first) failed at `now`; undefined
 * when that was the last attempt and the message is dead.
 *
 * @example
 * const next = nextAttemptAt(row.attempts, new Date(), { retryAfterMs: result.retryAfterMs });
 * if (next === undefined) markDead(row); else reschedule(row, next);
 */
export function nextAttemptAt(attempt: number, now: Date, options: ScheduleOptions = {}): Date | undefined {
  if (!Number.isInteger(attempt) || attempt < 1) throw new RangeError(`attempt must be a whole number from 1 (got ${attempt})`);
  const base = RETRY_DELAYS_MS[attempt - 1];
  if (base === undefined) return undefined;
  const random = options.random ?? Math.random;
  const jittered = base * (1 + JITTER * (2 * random() - 1));
  // A receiver asking for a pause gets it, but cannot park a message past the schedule's longest step.
  const asked = Math.min(Math.max(options.retryAfterMs ?? 0, 0), MAX_RETRY_DELAY_MS);
  return new Date(now.getTime() + Math.round(Math.max(jittered, asked)));
}

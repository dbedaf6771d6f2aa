import type { OutboxEvent } from "../store/event-store.js";

/** How one attempt to hand an event to a subscriber ended. */
export type HandleOutcome =
  | { kind: "done"; status?: number | undefined }
  /** Try again later: no sooner than `retryAfterMs` when the other side said so. */
  | { kind: "retry"; status?: number | undefined; error?: string | undefined; retryAfterMs?: number | undefined }
  /** The subscriber is gone for good (a webhook endpoint answering 410): it gets nothing more. */
  | { kind: "gone"; status?: number | undefined; reason: string }
  /** This event can never be handled: dead-lettered now. */
  | { kind: "dead"; error: string };

/**
 * One consumer of the outbox: a webhook endpoint, the virus scanner, the image renderer, the
 * in-process listeners. The dispatcher gives each event to every subscriber that `accepts` it,
 * at least once, with attempts spaced by `nextAttemptAt`.
 */
export interface Subscriber {
  /** Stable across restarts and instances: delivery rows name it (`webhook:<id>`, `scanner`, …). */
  readonly target: string;
  /** How long a claimed attempt may take before another dispatcher may try it again. */
  readonly leaseMs: number;
  accepts(event: OutboxEvent): boolean;
  /** `signal` aborts at the attempt's deadline (inside its lease) or when the dispatcher stops. */
  handle(event: OutboxEvent, attempt: number, signal: AbortSignal): Promise<HandleOutcome>;
  /** When to try again after failed attempt number `attempt`; undefined: dead-letter it. */
  nextAttemptAt(attempt: number, now: Date, retryAfterMs: number | undefined): Date | undefined;
}

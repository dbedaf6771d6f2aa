import type { OutboxEvent } from "../store/event-store.js";
import { isUploadEventType, type UploadEvent } from "../uploads/events.js";

/** An outbox row as customers see it; undefined for the server's own work (`scan.requested`). */
export function toUploadEvent(event: OutboxEvent): UploadEvent | undefined {
  if (!isUploadEventType(event.type)) return undefined;
  return { id: event.id, type: event.type, timestamp: event.createdAt.toISOString(), data: JSON.parse(event.payload) as UploadEvent["data"] };
}

/**
 * The webhook body, `{ type, timestamp, data }`, built around the payload as it was stored
 * rather than re-serialized: every attempt sends the same bytes, so the same signature input.
 */
export function eventBody(event: OutboxEvent): string {
  return `{"type":${JSON.stringify(event.type)},"timestamp":${JSON.stringify(event.createdAt.toISOString())},"data":${event.payload}}`;
}

/**
 * Retries for the server's own subscribers (scanner, renderer, listeners): soon, since the
 * cause is usually a moment's outage: 1 s doubling to `capMs`, ±20 % jitter; dead after
 * `maxAttempts` (never, for work an upload waits on).
 */
export function shortBackoff(options: { capMs: number; maxAttempts?: number | undefined }) {
  return (attempt: number, now: Date, retryAfterMs: number | undefined): Date | undefined => {
    if (options.maxAttempts !== undefined && attempt >= options.maxAttempts) return undefined;
    const base = Math.min(options.capMs, 1000 * 2 ** Math.min(attempt - 1, 20));
    const delay = Math.max(base * (0.8 + Math.random() * 0.4), retryAfterMs ?? 0);
    return new Date(now.getTime() + delay);
  };
}

import type { OutboxEvent } from "../store/event-store.js";
import type { UploadEvent } from "../uploads/events.js";
import type { HandleOutcome, Subscriber } from "./subscriber.js";
import { shortBackoff, toUploadEvent } from "./upload-event.js";

export type EventListener = (event: UploadEvent) => void | Promise<void>;

/**
 * `onEvent` for library users: in-process listeners fed from the same outbox as webhooks, so
 * they see each committed change at least once (a listener that throws gets the event again,
 * every listener does: dedupe on `event.id`), and never one that rolled back. With several
 * instances each event goes to the listeners of one of them: use webhooks to reach one place.
 */
export class Listeners implements Subscriber {
  readonly target = "listeners";
  readonly leaseMs = 60_000;
  readonly nextAttemptAt = shortBackoff({ capMs: 60_000, maxAttempts: 20 });
  readonly #listeners = new Set<EventListener>();

  /** Adds a listener; returns what removes it. */
  add(listener: EventListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  accepts(event: OutboxEvent): boolean {
    return this.#listeners.size > 0 && toUploadEvent(event) !== undefined;
  }

  async handle(outboxEvent: OutboxEvent): Promise<HandleOutcome> {
    const event = toUploadEvent(outboxEvent);
    if (event === undefined) return { kind: "done" };
    for (const listener of this.#listeners) await listener(event);
    return { kind: "done" };
  }
}

import type { EventStore, OutboxEvent } from "../store/event-store.js";
import type { HandleOutcome, Subscriber } from "./subscriber.js";

export interface DispatcherOptions {
  store: EventStore;
  subscribers: readonly Subscriber[];
  /** Between rounds when there was nothing to do. */
  idleMs?: number;
  /** Deliveries claimed per round (and in flight at once). */
  batch?: number;
  now?: () => Date;
  onError?: (error: unknown) => void;
  /** Told about each attempt (logs, metrics). */
  onAttempt?: (attempt: { target: string; eventId: string; type: string; attempt: number; outcome: string; ms: number }) => void;
}

/**
 * Moves the outbox along: fans new events out to the subscribers that want them, then claims
 * due deliveries and hands them over outside any transaction, recording each attempt. Runs in
 * every instance; the store's claims keep two instances off the same delivery, and a killed
 * instance's claims come due again once their lease ends (at least once, same event id).
 */
export class Dispatcher {
  readonly #store: EventStore;
  readonly #subscribers: Map<string, Subscriber>;
  readonly #idleMs: number;
  readonly #batch: number;
  readonly #now: () => Date;
  readonly #options: DispatcherOptions;
  #running: Promise<void> | undefined;
  #stopping = false;
  #wake: (() => void) | undefined;
  #disabled = new Set<string>();

  constructor(options: DispatcherOptions) {
    this.#options = options;
    this.#store = options.store;
    this.#subscribers = new Map(options.subscribers.map((s) => [s.target, s]));
    this.#idleMs = options.idleMs ?? 1000;
    this.#batch = options.batch ?? 16;
    this.#now = options.now ?? (() => new Date());
  }

  get targets(): string[] {
    return [...this.#subscribers.keys()];
  }

  start(): void {
    if (this.#running !== undefined || this.#subscribers.size === 0) return;
    this.#stopping = false;
    this.#running = this.#loop();
  }

  /** Finishes the attempts in flight, then stops. */
  async stop(): Promise<void> {
    this.#stopping = true;
    this.#wake?.();
    await this.#running;
    this.#running = undefined;
  }

  /** Runs a round now rather than after the idle wait (a change was just committed here). */
  nudge(): void {
    this.#wake?.();
  }

  /** One round: fan out, then attempt what is due. Returns how many attempts were made. */
  async runOnce(): Promise<number> {
    const now = this.#now();
    this.#disabled = await this.#store.disabledTargets();
    const live = [...this.#subscribers.values()].filter((s) => !this.#disabled.has(s.target));
    // Disabled endpoints get their rows too: held (never claimed) until re-enabled, then delivered.
    const all = [...this.#subscribers.values()];
    const targetsOf = (event: OutboxEvent) => all.filter((s) => s.accepts(event)).map((s) => s.target);
    while ((await this.#store.fanOut({ limit: 100, now, targetsOf })) === 100);
    const claimed = await this.#store.claimDue({
      limit: this.#batch,
      now,
      targets: live.map((s) => s.target),
      leaseMs: (target) => this.#subscribers.get(target)?.leaseMs ?? 60_000,
    });
    await Promise.all(claimed.map(async ({ event, target, attempt }) => {
      const subscriber = this.#subscribers.get(target);
      if (subscriber === undefined) return;
      const started = performance.now();
      const outcome = await subscriber.handle(event, attempt).catch((error: unknown): HandleOutcome => ({
        kind: "retry" as const,
        error: error instanceof Error ? error.message : String(error),
      }));
      const at = this.#now();
      const ms = performance.now() - started;
      this.#options.onAttempt?.({ target, eventId: event.id, type: event.type, attempt, outcome: outcome.kind, ms });
      switch (outcome.kind) {
        case "done":
          await this.#store.settle({ eventId: event.id, target, outcome: { kind: "delivered", status: outcome.status }, now: at });
          return;
        case "dead":
          await this.#store.settle({ eventId: event.id, target, outcome: { kind: "dead", error: outcome.error }, now: at });
          return;
        case "gone":
          await this.#store.settle({ eventId: event.id, target, outcome: { kind: "dead", status: outcome.status, error: outcome.reason }, now: at });
          await this.#store.disableTarget({ target, reason: outcome.reason, now: at });
          return;
        case "retry": {
          const next = subscriber.nextAttemptAt(attempt, at, outcome.retryAfterMs);
          const settlement = next === undefined
            ? { kind: "dead" as const, status: outcome.status, error: outcome.error }
            : { kind: "retry" as const, at: next, status: outcome.status, error: outcome.error };
          await this.#store.settle({ eventId: event.id, target, outcome: settlement, now: at });
        }
      }
    }));
    return claimed.length;
  }

  async #loop(): Promise<void> {
    while (!this.#stopping) {
      let busy = false;
      try {
        busy = (await this.runOnce()) > 0;
      } catch (error) {
        this.#options.onError?.(error);
      }
      if (busy || this.#stopping) continue;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, this.#idleMs);
        this.#wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.#wake = undefined;
    }
  }
}

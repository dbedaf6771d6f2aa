import type { DeliverySettlement, EventStore, OutboxEvent } from "../store/event-store.js";
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
  /**
   * Targets an event gets a delivery row for even when this instance has no such subscriber, so
   * another instance (or this one, once configured) takes it up: the server's own work that an
   * upload waits on (`scan.requested` → `scanner`) must never be fanned out to nobody.
   */
  holdFor?: (event: OutboxEvent) => readonly string[];
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
  readonly #inFlight = new Set<AbortController>();

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

  /**
   * Lets the attempts in flight finish for up to `graceMs`, then aborts them (each is recorded as
   * failed and comes due again), and stops.
   */
  async stop(graceMs = 5000): Promise<void> {
    this.#stopping = true;
    this.#wake?.();
    const cut = setTimeout(() => {
      for (const controller of this.#inFlight) controller.abort(new Error("the dispatcher is stopping"));
    }, graceMs);
    try {
      await this.#running;
    } finally {
      clearTimeout(cut);
    }
    this.#running = undefined;
  }

  /** Runs a round now rather than after the idle wait (a change was just committed here). */
  nudge(): void {
    this.#wake?.();
  }

  /** One round: fan out, then attempt what is due. Returns how many attempts were made. */
  async runOnce(): Promise<number> {
    const now = this.#now();
    const disabled = await this.#store.disabledTargets();
    const live = [...this.#subscribers.values()].filter((s) => !disabled.has(s.target));
    // Disabled endpoints get their rows too: held (never claimed) until re-enabled, then delivered.
    const all = [...this.#subscribers.values()];
    const held = this.#options.holdFor ?? (() => []);
    const targetsOf = (event: OutboxEvent) => [...all.filter((s) => s.accepts(event)).map((s) => s.target), ...held(event)];
    while ((await this.#store.fanOut({ limit: 100, now, targetsOf })) === 100);
    const claimed = await this.#store.claimDue({
      limit: this.#batch,
      now,
      targets: live.map((s) => s.target),
      leaseMs: (target) => this.#subscribers.get(target)?.leaseMs ?? 60_000,
    });
    const settled = await Promise.allSettled(claimed.map(({ event, target, attempt }) => this.#attempt(event, target, attempt)));
    // One failed settle (a database blip) must not hide the others: each is reported, and its
    // delivery simply comes due again when its lease ends.
    for (const result of settled) if (result.status === "rejected") this.#options.onError?.(result.reason);
    return claimed.length;
  }

  /**
   * One attempt, cut short at its subscriber's deadline (just inside its lease, so it is settled
   * before another dispatcher may take it) or when the dispatcher stops: a handler that never
   * returns cannot hold the dispatcher, and the attempt counts as failed.
   */
  async #attempt(event: OutboxEvent, target: string, attempt: number): Promise<void> {
    const subscriber = this.#subscribers.get(target);
    if (subscriber === undefined) return;
    const started = performance.now();
    const controller = new AbortController();
    this.#inFlight.add(controller);
    const deadlineMs = subscriber.leaseMs * 0.9;
    const deadline = setTimeout(() => controller.abort(new Error(`no outcome within ${deadlineMs} ms`)), deadlineMs);
    const cut = new Promise<HandleOutcome>((resolve) => {
      controller.signal.addEventListener("abort", () => resolve({ kind: "retry", error: describe(controller.signal.reason) }), { once: true });
    });
    let outcome: HandleOutcome;
    try {
      outcome = await Promise.race([
        Promise.resolve()
          .then(() => subscriber.handle(event, attempt, controller.signal))
          .catch((error: unknown): HandleOutcome => ({ kind: "retry", error: describe(error) })),
        cut,
      ]);
    } finally {
      clearTimeout(deadline);
      this.#inFlight.delete(controller);
    }
    const at = this.#now();
    const ms = performance.now() - started;
    this.#options.onAttempt?.({ target, eventId: event.id, type: event.type, attempt, outcome: outcome.kind, ms });
    const settle = (settlement: DeliverySettlement) =>
      this.#store.settle({ eventId: event.id, target, attempt, outcome: settlement, now: at });
    switch (outcome.kind) {
      case "done":
        return settle({ kind: "delivered", status: outcome.status });
      case "dead":
        return settle({ kind: "dead", error: outcome.error });
      case "gone":
        await settle({ kind: "dead", status: outcome.status, error: outcome.reason });
        return this.#store.disableTarget({ target, reason: outcome.reason, now: at });
      case "retry": {
        const next = subscriber.nextAttemptAt(attempt, at, outcome.retryAfterMs);
        return settle(next === undefined
          ? { kind: "dead", status: outcome.status, error: outcome.error }
          : { kind: "retry", at: next, status: outcome.status, error: outcome.error });
      }
    }
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

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

import type { DeliveryState } from "./database.js";

/** An outbox row as a subscriber gets it. */
export interface OutboxEvent {
  id: string;
  type: string;
  uploadId: string;
  ownerType: string;
  /** The event's `data`, as serialized when it was written. */
  payload: string;
  createdAt: Date;
}

/** One event claimed for one subscriber, with the attempts made so far (this one included). */
export interface ClaimedDelivery {
  event: OutboxEvent;
  target: string;
  attempt: number;
}

/** How an attempt ended, as the dispatcher records it. */
export type DeliverySettlement =
  | { kind: "delivered"; status?: number | undefined }
  | { kind: "retry"; at: Date; status?: number | undefined; error?: string | undefined }
  | { kind: "dead"; status?: number | undefined; error?: string | undefined };

export interface DeliveryRow {
  eventId: string;
  type: string;
  uploadId: string;
  target: string;
  state: DeliveryState;
  attempts: number;
  nextAttemptAt: Date;
  lastStatus: number | undefined;
  lastError: string | undefined;
  createdAt: Date;
}

/**
 * The dispatcher's side of the outbox. Every claim is a state change guarded like the sweeper's:
 * on PostgreSQL `FOR UPDATE SKIP LOCKED`, so several instances take disjoint rows; SQLite has
 * one writer. A claim pushes `next_attempt_at` past a lease: a dispatcher killed mid-delivery
 * leaves rows that come due again once their lease ends, and are delivered again with the same id.
 */
export interface EventStore {
  /**
   * Gives up to `limit` events not yet fanned out a delivery row for each subscriber
   * `targetsOf` names (none: nobody is told), and marks them fanned out. Returns how many.
   */
  fanOut(input: { limit: number; now: Date; targetsOf: (event: OutboxEvent) => readonly string[] }): Promise<number>;
  /** Claims up to `limit` due deliveries of `targets`, each for its target's lease; counts the attempt. */
  claimDue(input: {
    limit: number;
    now: Date;
    targets: readonly string[];
    leaseMs: (target: string) => number;
  }): Promise<ClaimedDelivery[]>;
  /**
   * Records how a claimed attempt ended; only while the row is still that attempt's claim (a
   * dispatcher whose lease ran out, and whose row another claimed since, changes nothing).
   */
  settle(input: { eventId: string; target: string; attempt: number; outcome: DeliverySettlement; now: Date }): Promise<void>;
  /** A webhook endpoint answered 410 Gone: it gets nothing more, its pending deliveries are set aside. */
  disableTarget(input: { target: string; reason: string; now: Date }): Promise<void>;
  disabledTargets(): Promise<Set<string>>;
  /** Deliveries, newest event first; `state` narrows (e.g. `dead` for the dead letters). */
  listDeliveries(input: { state?: DeliveryState | undefined; target?: string | undefined; limit: number }): Promise<DeliveryRow[]>;
  /**
   * Makes dead (or disabled) deliveries due again now, with their attempts reset: all of
   * `target`'s, or those of the given events. Re-enables the target. Returns how many.
   */
  retry(input: { eventIds?: readonly string[] | undefined; target?: string | undefined; now: Date }): Promise<number>;
}

import type { Scanner } from "../scanning/scanner.js";
import type { OutboxEvent } from "../store/event-store.js";
import type { UploadService } from "../uploads/service.js";
import type { HandleOutcome, Subscriber } from "./subscriber.js";
import { shortBackoff } from "./upload-event.js";

/**
 * The virus scanner as an outbox subscriber: `scan.requested` → scan and settle the upload.
 * A scanner that cannot be reached is retried (1 s doubling to a minute) for as long as it
 * takes: the upload waits in `scanning`, never served unscanned, never dead-lettered.
 */
export function scanSubscriber(service: UploadService, scanner: Scanner, options: { timeoutSeconds: number }): Subscriber {
  return {
    target: "scanner",
    // A scan streams the whole object; the lease must outlast the slowest one that still makes progress.
    leaseMs: Math.max(10 * 60_000, options.timeoutSeconds * 4000),
    nextAttemptAt: shortBackoff({ capMs: 60_000 }),
    accepts: (event: OutboxEvent) => event.type === "scan.requested",
    async handle(event: OutboxEvent, _attempt: number, signal: AbortSignal): Promise<HandleOutcome> {
      await service.scan(scanner, event.uploadId, signal);
      return { kind: "done" };
    },
  };
}

/**
 * The image renderer as an outbox subscriber: `upload.confirmed` of an owner type whose policy
 * declares derivatives → make them. Renders one event at a time per process: sharp holds a
 * decoded image in memory, and two at once on two cores would only queue in libuv anyway.
 */
export function derivativesSubscriber(service: UploadService, ownerTypes: ReadonlySet<string>): Subscriber {
  let queue: Promise<unknown> = Promise.resolve();
  return {
    target: "derivatives",
    leaseMs: 5 * 60_000,
    nextAttemptAt: shortBackoff({ capMs: 5 * 60_000, maxAttempts: 12 }),
    accepts: (event: OutboxEvent) => event.type === "upload.confirmed" && ownerTypes.has(event.ownerType),
    handle(event: OutboxEvent): Promise<HandleOutcome> {
      const run = queue.then(() => service.derive(event.uploadId));
      queue = run.catch(() => undefined);
      return run.then(() => ({ kind: "done" }));
    },
  };
}

import { eventBody } from "../events/upload-event.js";
import type { HandleOutcome, Subscriber } from "../events/subscriber.js";
import type { OutboxEvent } from "../store/event-store.js";
import { isUploadEventType } from "../uploads/events.js";
import { deliverWebhook } from "./deliver.js";
import { endpointWants, type WebhookEndpoint } from "./endpoint.js";
import { nextAttemptAt } from "./schedule.js";

/**
 * One configured endpoint as an outbox subscriber: the events it asked for (by type and owner
 * type), signed per Standard Webhooks, with the same `webhook-id` on every attempt. Retried on
 * the schedule in `schedule.ts` (about a day), then dead-lettered (`stowage events list|retry`);
 * a 410 Gone disables the endpoint until `stowage events retry --target webhook:<id>`.
 */
export function webhookSubscriber(endpoint: WebhookEndpoint, version: string): Subscriber {
  return {
    target: `webhook:${endpoint.id}`,
    // The attempt's own timeout, and room for the settle after it: a dispatcher killed mid-attempt
    // has its delivery taken up again by another (or the restarted one) this long after the claim.
    leaseMs: endpoint.timeoutSeconds * 1000 + 5_000,
    accepts: (event: OutboxEvent) =>
      isUploadEventType(event.type) && endpointWants(endpoint, { type: event.type, ownerType: event.ownerType }),
    nextAttemptAt: (attempt, now, retryAfterMs) => nextAttemptAt(attempt, now, retryAfterMs === undefined ? {} : { retryAfterMs }),
    async handle(event: OutboxEvent, _attempt: number, signal: AbortSignal): Promise<HandleOutcome> {
      const result = await deliverWebhook({ endpoint, message: { id: event.id, body: eventBody(event) }, version, signal });
      switch (result.kind) {
        case "delivered":
          return { kind: "done", status: result.status };
        case "gone":
          return { kind: "gone", status: result.status, reason: "the endpoint answered 410 Gone" };
        case "retry":
          return { kind: "retry", status: result.status, error: result.error, retryAfterMs: result.retryAfterMs };
      }
    },
  };
}

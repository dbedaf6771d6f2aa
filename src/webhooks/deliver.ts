import type { WebhookEndpoint } from "./endpoint.js";
import { parseRetryAfter } from "./retry-after.js";
import { MAX_RETRY_DELAY_MS } from "./schedule.js";
import { signWebhook } from "./sign.js";

/** What one attempt came to; the dispatcher records it and, for `retry`, asks `nextAttemptAt`. */
export type DeliveryResult =
  | { kind: "delivered"; status: number }
  | { kind: "retry"; status?: number; error?: string; retryAfterMs?: number }
  /** The receiver says the endpoint is gone for good: the dispatcher disables it. */
  | { kind: "gone"; status: 410 };

export interface DeliveryOptions {
  endpoint: Pick<WebhookEndpoint, "url" | "secrets" | "timeoutSeconds">;
  /** The stored message: the same id and body bytes on every attempt. */
  message: { id: string; body: string };
  /** This package's version, for `User-Agent: Stowage-Webhooks/<version>`. */
  version: string;
  /** The signature's timestamp; now unless a test says otherwise. */
  now?: Date;
  /** Aborts the attempt (shutdown); the abort's reason is then thrown rather than returned as a retry. */
  signal?: AbortSignal;
}

/**
 * Receivers' answers are read only to free the connection; beyond this they are cut off.
 * Nothing in the body changes the outcome.
 */
const MAX_RESPONSE_BYTES = 64 * 1024;

/**
 * One delivery attempt: POST the stored body, signed with the endpoint's secrets, and classify
 * the answer. Never throws for anything the receiver or the network does.
 *
 * - 2xx: delivered.
 * - 410 Gone: the receiver retired this endpoint; retrying would only add load.
 * - Anything else, 3xx and 4xx included, is retried (as Standard Webhooks and Svix do): a 401,
 *   404 or 400 from a receiver is most often a deploy gone wrong or a secret not yet rotated,
 *   which its owner fixes within the retry window; dropping the event at the first 4xx would
 *   lose it for good. The schedule bounds the cost, and dead letters keep what never got through.
 * - Redirects are never followed (`redirect: "manual"`): the signed request would be replayed to
 *   a URL nobody configured. A 3xx is a failure the endpoint's owner must fix in the config.
 *
 * The timeout covers the whole exchange, headers and body: a receiver that answers 200 and then
 * never finishes is retried too. Delivery is at least once; receivers deduplicate on `webhook-id`.
 *
 * @example
 * const result = await deliverWebhook({ endpoint, message: { id: row.id, body: row.body }, version });
 */
export async function deliverWebhook(options: DeliveryOptions): Promise<DeliveryResult> {
  const { endpoint, message } = options;
  options.signal?.throwIfAborted();
  // One controller per attempt, for the timeout and the caller's signal alike. Not
  // AbortSignal.any([timeout, signal]): each call links a new signal to the long-lived shutdown
  // signal, and Node has leaked those links (nodejs/node#55351); a listener removed in `finally` cannot leak.
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort(new DOMException(`no answer within ${endpoint.timeoutSeconds} s`, "TimeoutError"));
  }, endpoint.timeoutSeconds * 1000);
  const cancel = () => controller.abort(options.signal?.reason);
  options.signal?.addEventListener("abort", cancel, { once: true });
  const headers = signWebhook({ ...message, timestamp: options.now ?? new Date() }, endpoint.secrets);
  try {
    const response = await fetch(endpoint.url, {
      method: "POST",
      headers: {
        ...headers,
        "content-type": "application/json",
        "user-agent": `Stowage-Webhooks/${options.version}`,
      },
      body: message.body,
      redirect: "manual",
      signal: controller.signal,
    });
    await discard(response.body);
    const status = response.status;
    if (status >= 200 && status < 300) return { kind: "delivered", status };
    if (status === 410) return { kind: "gone", status };
    const retryAfterMs = parseRetryAfter(response.headers.get("retry-after"), new Date(), MAX_RETRY_DELAY_MS);
    const error = status >= 300 && status < 400 ? `redirect to ${response.headers.get("location") ?? "(no location)"} not followed` : undefined;
    return { kind: "retry", status, ...(error === undefined ? {} : { error }), ...(retryAfterMs === undefined ? {} : { retryAfterMs }) };
  } catch (error) {
    if (options.signal?.aborted === true) throw options.signal.reason;
    if (timedOut) return { kind: "retry", error: `no complete answer within ${endpoint.timeoutSeconds} s` };
    return { kind: "retry", error: describe(error) };
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener("abort", cancel);
  }
}

/** Reads and drops an answer's body, up to `MAX_RESPONSE_BYTES`, then cancels the rest. */
async function discard(body: ReadableStream<Uint8Array> | null): Promise<void> {
  if (body === null) return;
  const reader = body.getReader();
  for (let bytes = 0; bytes <= MAX_RESPONSE_BYTES;) {
    const { done, value } = await reader.read();
    if (done) return;
    bytes += value.byteLength;
  }
  // A cancelled body makes undici close that connection rather than reuse it: right for a receiver this chatty.
  await reader.cancel();
}

/** fetch says only "fetch failed"; the reason (`ECONNREFUSED`, a TLS or DNS error) is in `cause`. */
function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error ? error.cause : undefined;
  const code = (cause as { code?: unknown } | undefined)?.code;
  if (cause === undefined) return error.message;
  return `${error.message}: ${typeof code === "string" && !cause.message.includes(code) ? `${code} ` : ""}${cause.message}`;
}

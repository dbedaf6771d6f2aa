import { Webhook } from "standardwebhooks";

/** One message as signed: the same `id` and `body` on every attempt; `timestamp` is the attempt's. */
export interface SignedMessage {
  /** The message id receivers deduplicate on (delivery is at least once). */
  id: string;
  /**
   * When this attempt is made. Receivers refuse timestamps more than 5 minutes away from their
   * clock (replay protection), so a retry hours later is signed afresh, never with the first time.
   */
  timestamp: Date;
  /** The exact bytes sent: serialized once and stored, so every attempt signs the same body. */
  body: string;
}

/** The Standard Webhooks headers (https://www.standardwebhooks.com/, "Signature scheme"). */
export interface WebhookHeaders {
  "webhook-id": string;
  /** Unix seconds. */
  "webhook-timestamp": string;
  /** `v1,<base64 HMAC-SHA256 of id.timestamp.body>` per secret, space-separated. */
  "webhook-signature": string;
}

/**
 * Signs `message` with every secret of an endpoint. With two secrets during a rotation, a
 * receiver that knows either one verifies: Standard Webhooks receivers accept a message when any
 * of the space-separated signatures matches.
 *
 * @example
 * const headers = signWebhook({ id: "msg_01J…", timestamp: new Date(), body }, endpoint.secrets);
 */
export function signWebhook(message: SignedMessage, secrets: readonly string[]): WebhookHeaders {
  if (secrets.length === 0) throw new TypeError("signWebhook needs at least one secret");
  const signatures = secrets.map((secret) => new Webhook(secret).sign(message.id, message.timestamp, message.body));
  return {
    "webhook-id": message.id,
    "webhook-timestamp": String(Math.floor(message.timestamp.getTime() / 1000)),
    "webhook-signature": signatures.join(" "),
  };
}

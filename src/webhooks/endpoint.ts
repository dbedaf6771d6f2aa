import type { UploadEventType } from "../uploads/events.js";

/**
 * One receiver of webhooks, as validated at start-up (`webhooks.endpoints` in the config file).
 * Operators configure endpoints, not users: the URL is trusted as much as the config file is.
 */
export interface WebhookEndpoint {
  /** A slug naming the endpoint in logs, metrics and the outbox (`billing`, `search-indexer`). */
  id: string;
  /** http(s), without credentials: fetch refuses URLs with a user or password in them. */
  url: string;
  /**
   * Signing secrets, `whsec_<base64>`. The first is the current one; every one signs each
   * message (one `v1,` signature each), so a receiver holding an older or a newer secret keeps
   * verifying while it moves over. Never logged: `redactConfig` and the logger hide them.
   */
  secrets: readonly string[];
  /** The event types sent here; undefined: all of them. */
  events: readonly UploadEventType[] | undefined;
  /** Only events about uploads of these owner types; undefined: all of them. */
  ownerTypes: readonly string[] | undefined;
  /** One attempt, headers and body of the answer, must finish within this. */
  timeoutSeconds: number;
}

export const WEBHOOK_SECRET_PREFIX = "whsec_";
/** Standard Webhooks: secrets are 24 to 64 random bytes. */
const SECRET_BYTES = { min: 24, max: 64 };

/**
 * Ports fetch refuses to connect to ("bad ports", https://fetch.spec.whatwg.org/#port-blocking),
 * checked against Node 20's undici, which refuses exactly these. An endpoint on one would fail
 * every attempt with "bad port" for a day; at start-up it is one clear message instead.
 */
const FETCH_BLOCKED_PORTS = new Set([
  1, 7, 9, 11, 13, 15, 17, 19, 20, 21, 22, 23, 25, 37, 42, 43, 53, 69, 77, 79, 87, 95, 101, 102, 103, 104, 109, 110, 111, 113,
  115, 117, 119, 123, 135, 137, 139, 143, 161, 179, 389, 427, 465, 512, 513, 514, 515, 526, 530, 531, 532, 540, 548, 554, 556,
  563, 587, 601, 636, 989, 990, 993, 995, 1719, 1720, 1723, 2049, 3659, 4045, 4190, 5060, 5061, 6000, 6566, 6665, 6666, 6667,
  6668, 6669, 6679, 6697, 10080,
]);

/** What is wrong with an endpoint URL, or undefined when fetch can POST to it. */
export function webhookUrlProblem(raw: string): string | undefined {
  if (!URL.canParse(raw)) return `'${raw}' is not a URL`;
  const url = new URL(raw);
  if (url.protocol !== "http:" && url.protocol !== "https:") return `'${raw}' must be http:// or https://`;
  // fetch refuses such URLs outright; and URLs are logged, so credentials have no place in them.
  if (url.username !== "" || url.password !== "") return "must not contain a user name or password";
  if (url.port !== "" && FETCH_BLOCKED_PORTS.has(Number(url.port))) return `port ${url.port} is one fetch refuses to connect to`;
  return undefined;
}

/** Whether `endpoint` takes events of `type` about an upload of `ownerType`. */
export function endpointWants(endpoint: WebhookEndpoint, event: { type: UploadEventType; ownerType: string }): boolean {
  return (endpoint.events?.includes(event.type) ?? true) && (endpoint.ownerTypes?.includes(event.ownerType) ?? true);
}

/**
 * What is wrong with a signing secret, or undefined when it is one: `whsec_` and canonical base64
 * of 24 to 64 bytes. Checked here because `standardwebhooks` accepts more than it should (it
 * decodes `whsec_YWJj`, three bytes, without complaint) and fails only on the first send.
 * The message never contains the secret.
 */
export function webhookSecretProblem(secret: string): string | undefined {
  if (!secret.startsWith(WEBHOOK_SECRET_PREFIX)) return `must start with '${WEBHOOK_SECRET_PREFIX}'`;
  const encoded = secret.slice(WEBHOOK_SECRET_PREFIX.length);
  // Node's decoder skips characters it does not know; the round trip catches them and bad padding.
  const bytes = Buffer.from(encoded, "base64");
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encoded) || bytes.toString("base64") !== encoded) {
    return `must be '${WEBHOOK_SECRET_PREFIX}' followed by base64 (A-Z a-z 0-9 + /, '=' padded)`;
  }
  if (bytes.length < SECRET_BYTES.min || bytes.length > SECRET_BYTES.max) {
    return `must hold ${SECRET_BYTES.min} to ${SECRET_BYTES.max} bytes (has ${bytes.length})`;
  }
  return undefined;
}

import { isUploadEventType, UPLOAD_EVENT_TYPES, type UploadEventType } from "../uploads/events.js";
import { webhookSecretProblem, webhookUrlProblem, type WebhookEndpoint } from "../webhooks/endpoint.js";
import type { Env } from "./load.js";
import type { WebhookEndpointFile } from "./schema.js";

const DEFAULT_TIMEOUT_SECONDS = 10;

/**
 * The config file's `webhooks.endpoints`, checked for meaning once at start-up: every problem is
 * reported, naming the endpoint (never a secret's value). `secretEnv` is resolved here from `env`,
 * so nothing after start-up reads the environment. `ownerTypes` must name configured policies.
 */
export function parseWebhooks(
  endpoints: readonly WebhookEndpointFile[],
  context: { env: Env; ownerTypes: readonly string[] },
  problems: string[],
): WebhookEndpoint[] {
  const seen = new Set<string>();
  return endpoints.map((file, index) => {
    const where = `webhook endpoint '${file.id}'`;
    if (seen.has(file.id)) problems.push(`webhooks.endpoints[${index}]: id '${file.id}' is used by an earlier endpoint`);
    seen.add(file.id);

    const urlProblem = webhookUrlProblem(file.url);
    if (urlProblem !== undefined) problems.push(`${where}: url ${urlProblem}`);

    const events = file.events?.filter((type): type is UploadEventType => {
      if (!isUploadEventType(type)) problems.push(`${where}: unknown event type '${type}' (known: ${UPLOAD_EVENT_TYPES.join(", ")})`);
      return isUploadEventType(type);
    });
    for (const ownerType of file.ownerTypes ?? []) {
      if (!context.ownerTypes.includes(ownerType)) {
        problems.push(`${where}: owner type '${ownerType}' has no policy (configured: ${context.ownerTypes.join(", ")})`);
      }
    }
    return {
      id: file.id,
      url: file.url,
      secrets: secretsOf(file, where, context.env, problems),
      events,
      ownerTypes: file.ownerTypes,
      timeoutSeconds: file.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS,
    };
  });
}

/** The endpoint's secrets, from the file or from the variable `secretEnv` names (space-separated). */
function secretsOf(file: WebhookEndpointFile, where: string, env: Env, problems: string[]): string[] {
  if ((file.secrets === undefined) === (file.secretEnv === undefined)) {
    problems.push(`${where}: set exactly one of secrets and secretEnv`);
    return [];
  }
  let secrets: string[];
  let from: string;
  if (file.secretEnv === undefined) {
    secrets = file.secrets ?? [];
    from = "secrets";
  } else {
    secrets = (env[file.secretEnv] ?? "").split(/\s+/).filter((s) => s !== "");
    from = `secretEnv ${file.secretEnv}`;
    if (secrets.length === 0) problems.push(`${where}: secretEnv names ${file.secretEnv}, which is not set`);
  }
  secrets.forEach((secret, index) => {
    const problem = webhookSecretProblem(secret);
    // The position, never the value: this message is printed and logged.
    if (problem !== undefined) problems.push(`${where}: ${from}, secret ${index + 1} ${problem}`);
  });
  return secrets;
}

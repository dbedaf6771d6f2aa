import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, it } from "node:test";
import { ConfigError } from "../errors.js";
import { createLogger } from "../logger.js";
import { type Env, loadConfig, redactConfig } from "./load.js";

let cwd: string;
beforeEach(() => {
  cwd = mkdtempSync(join(tmpdir(), "stowage-config-"));
});
afterEach(() => rmSync(cwd, { recursive: true, force: true }));

const secret = (bytes = 32) => `whsec_${randomBytes(bytes).toString("base64")}`;
const SECRET = secret();
const endpoint = (fields: Record<string, unknown> = {}) => ({ id: "billing", url: "https://hooks.example.com/stowage", secrets: [SECRET], ...fields });
const withEndpoints = (...endpoints: unknown[]) => writeFileSync(join(cwd, "stowage.config.json"), JSON.stringify({ webhooks: { endpoints } }));
const webhooksOf = (env: Env = {}) => loadConfig(env, cwd).webhooks;

function problemsOf(env: Env = {}): readonly string[] {
  try {
    loadConfig(env, cwd);
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    return error.problems;
  }
  assert.fail("loadConfig did not throw");
}

describe("webhooks config", () => {
  it("has no endpoints unless the config file names some", () => {
    assert.deepEqual(webhooksOf(), []);
  });

  it("reads an endpoint, with every event and owner type and a 10 s timeout unless it says otherwise", () => {
    withEndpoints(
      endpoint(),
      endpoint({ id: "search-indexer", url: "http://10.0.0.5:8080/h", events: ["upload.confirmed"], ownerTypes: ["document"], timeoutSeconds: 3 }),
    );
    assert.deepEqual(webhooksOf(), [
      { id: "billing", url: "https://hooks.example.com/stowage", secrets: [SECRET], events: undefined, ownerTypes: undefined, timeoutSeconds: 10 },
      {
        id: "search-indexer", url: "http://10.0.0.5:8080/h", secrets: [SECRET], events: ["upload.confirmed"], ownerTypes: ["document"], timeoutSeconds: 3,
      },
    ]);
  });

  it("takes the secrets from the variable secretEnv names, space-separated, the current one first", () => {
    const next = secret(24);
    withEndpoints(endpoint({ secrets: undefined, secretEnv: "BILLING_WEBHOOK_SECRETS" }));
    assert.deepEqual(webhooksOf({ BILLING_WEBHOOK_SECRETS: ` ${next}  ${SECRET}\n` })[0]?.secrets, [next, SECRET]);
    assert.deepEqual(problemsOf(), ["webhook endpoint 'billing': secretEnv names BILLING_WEBHOOK_SECRETS, which is not set"]);
  });

  it("refuses an endpoint with both secrets and secretEnv, or neither", () => {
    withEndpoints(endpoint({ secretEnv: "X" }), endpoint({ id: "b", secrets: undefined }));
    assert.deepEqual(problemsOf({ X: SECRET }), [
      "webhook endpoint 'billing': set exactly one of secrets and secretEnv",
      "webhook endpoint 'b': set exactly one of secrets and secretEnv",
    ]);
  });

  it("refuses secrets that are not whsec_ and base64 of 24 to 64 bytes, without printing them", () => {
    const bad = ["abc" + SECRET, "whsec_!!notbase64!!", "whsec_YWJj", secret(16), secret(65), SECRET.slice(0, -1), `whsec_${"-_".repeat(16)}`];
    withEndpoints(endpoint({ secrets: [SECRET, ...bad.slice(0, 5)] }), endpoint({ id: "env", secrets: undefined, secretEnv: "S" }));
    const problems = problemsOf({ S: bad.slice(5).join(" ") });
    assert.deepEqual(problems, [
      "webhook endpoint 'billing': secrets, secret 2 must start with 'whsec_'",
      "webhook endpoint 'billing': secrets, secret 3 must be 'whsec_' followed by base64 (A-Z a-z 0-9 + /, '=' padded)",
      "webhook endpoint 'billing': secrets, secret 4 must hold 24 to 64 bytes (has 3)",
      "webhook endpoint 'billing': secrets, secret 5 must hold 24 to 64 bytes (has 16)",
      "webhook endpoint 'billing': secrets, secret 6 must hold 24 to 64 bytes (has 65)",
      "webhook endpoint 'env': secretEnv S, secret 1 must be 'whsec_' followed by base64 (A-Z a-z 0-9 + /, '=' padded)",
      "webhook endpoint 'env': secretEnv S, secret 2 must be 'whsec_' followed by base64 (A-Z a-z 0-9 + /, '=' padded)",
    ]);
    for (const value of bad) assert.ok(!problems.join("\n").includes(value.slice(6, 20)), "a secret's value is in a message");
  });

  it("refuses URLs that are not http(s), carry credentials, or use a port fetch never connects to", () => {
    withEndpoints(
      endpoint({ id: "a", url: "not a url" }),
      endpoint({ id: "b", url: "ftp://hooks.example.com/" }),
      endpoint({ id: "c", url: "https://user:pw@hooks.example.com/" }),
      endpoint({ id: "d", url: "http://hooks.example.com:6667/" }),
      endpoint({ id: "e", url: "http://[::1]:8080/ok" }),
    );
    assert.deepEqual(problemsOf(), [
      "webhook endpoint 'a': url 'not a url' is not a URL",
      "webhook endpoint 'b': url 'ftp://hooks.example.com/' must be http:// or https://",
      "webhook endpoint 'c': url must not contain a user name or password",
      "webhook endpoint 'd': url port 6667 is one fetch refuses to connect to",
    ]);
  });

  it("refuses unknown event types and owner types without a policy", () => {
    withEndpoints(endpoint({ events: ["upload.confirmed", "upload.created"], ownerTypes: ["avatar", "invoice"] }));
    const problems = problemsOf();
    assert.equal(problems.length, 2, JSON.stringify(problems));
    assert.match(problems[0] ?? "", /^webhook endpoint 'billing': unknown event type 'upload.created' \(known: upload.confirmed, .*derivative.ready\)$/);
    assert.match(problems[1] ?? "", /^webhook endpoint 'billing': owner type 'invoice' has no policy \(configured: .*avatar/);
  });

  it("knows owner types the config file adds", () => {
    writeFileSync(join(cwd, "stowage.config.json"), JSON.stringify({
      policies: { invoice: { allowedTypes: ["application/pdf"], maxBytes: 1000, urlTtlSeconds: 60, keyTemplate: "i/{id}", bucket: "private", visibility: "private" } },
      webhooks: { endpoints: [endpoint({ ownerTypes: ["invoice"] })] },
    }));
    assert.deepEqual(webhooksOf()[0]?.ownerTypes, ["invoice"]);
  });

  it("refuses duplicate ids, ids that are not slugs, and unknown fields", () => {
    withEndpoints(endpoint(), endpoint());
    assert.deepEqual(problemsOf(), ["webhooks.endpoints[1]: id 'billing' is used by an earlier endpoint"]);
    withEndpoints(endpoint({ id: "Billing Hooks" }), endpoint({ id: "b", secret: SECRET }), endpoint({ id: "c", timeoutSeconds: 0 }));
    const problems = problemsOf();
    assert.equal(problems.length, 3, JSON.stringify(problems));
    assert.match(problems[0] ?? "", /\/webhooks\/endpoints\/0\/id must match pattern/);
    assert.match(problems[1] ?? "", /\/webhooks\/endpoints\/1 must not have additional properties/);
    assert.match(problems[2] ?? "", /\/webhooks\/endpoints\/2\/timeoutSeconds must be >= 1/);
  });

  it("never shows a secret in the redacted config or in a log line about an endpoint", () => {
    const other = secret();
    withEndpoints(endpoint({ secrets: undefined, secretEnv: "S" }));
    const config = loadConfig({ S: `${SECRET} ${other}` }, cwd);
    const json = JSON.stringify(redactConfig(config));
    assert.ok(!json.includes(SECRET) && !json.includes(other), "a webhook secret leaked");
    assert.ok(json.includes("\"secrets\":[\"[redacted]\",\"[redacted]\"]"));
    assert.equal(config.webhooks[0]?.secrets[0], SECRET, "redacting leaves the config itself alone");

    const lines: string[] = [];
    const logger = createLogger("info", { write: (line: string) => void lines.push(line) });
    logger.warn({ endpoint: config.webhooks[0] }, "endpoint disabled");
    assert.equal(lines.length, 1);
    assert.ok(!(lines[0] ?? "").includes(SECRET.slice(6)), "a webhook secret was logged");
  });
});

import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, it } from "node:test";
import { ConfigError } from "../errors.js";
import { type Env, loadConfig, redactConfig } from "./load.js";

let cwd: string;
beforeEach(() => {
  cwd = mkdtempSync(join(tmpdir(), "stowage-config-"));
});
afterEach(() => rmSync(cwd, { recursive: true, force: true }));

const TOKEN = "t".repeat(32);
// Production needs its secrets from the environment.
const PRODUCTION = { NODE_ENV: "production", STOWAGE_JWT_SECRET: "j".repeat(32), STOWAGE_SIGNING_SECRET: "s".repeat(32) };
const metricsOf = (env: Env) => loadConfig(env, cwd).metrics;

function problemsOf(env: Env): readonly string[] {
  try {
    loadConfig(env, cwd);
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    return error.problems;
  }
  assert.fail("loadConfig did not throw");
}

describe("metrics config", () => {
  it("is on, on the main port and open, outside production", () => {
    assert.deepEqual(metricsOf({}), { enabled: true, port: undefined, token: undefined });
  });

  it("is off in production unless a port, a token or STOWAGE_METRICS=on says otherwise", () => {
    assert.equal(metricsOf(PRODUCTION).enabled, false);
    assert.deepEqual(metricsOf({ ...PRODUCTION, STOWAGE_METRICS_PORT: "9100" }), { enabled: true, port: 9100, token: undefined });
    assert.deepEqual(metricsOf({ ...PRODUCTION, STOWAGE_METRICS_TOKEN: TOKEN }), { enabled: true, port: undefined, token: TOKEN });
    assert.equal(metricsOf({ ...PRODUCTION, STOWAGE_METRICS: "on" }).enabled, true);
    assert.equal(metricsOf({ STOWAGE_METRICS: "off" }).enabled, false);
  });

  it("names every bad setting", () => {
    assert.deepEqual(problemsOf({ STOWAGE_METRICS: "yes", STOWAGE_METRICS_PORT: "8080", STOWAGE_METRICS_TOKEN: "short" }), [
      "STOWAGE_METRICS must be on or off (got 'yes')",
      "STOWAGE_METRICS_PORT must differ from STOWAGE_PORT (both 8080)",
      "STOWAGE_METRICS_TOKEN must be at least 32 characters",
    ]);
    assert.deepEqual(problemsOf({ STOWAGE_METRICS_PORT: "70000" }), ["STOWAGE_METRICS_PORT must be a port from 1 to 65535 (got '70000')"]);
    assert.deepEqual(problemsOf({ STOWAGE_METRICS: "off", STOWAGE_METRICS_TOKEN: TOKEN }), [
      "STOWAGE_METRICS=off, but STOWAGE_METRICS_PORT or STOWAGE_METRICS_TOKEN is set: unset them or turn metrics on",
    ]);
  });

  it("redacts the token", () => {
    const redacted = redactConfig(loadConfig({ STOWAGE_METRICS_TOKEN: TOKEN }, cwd));
    assert.deepEqual(redacted.metrics, { enabled: true, port: undefined, token: "[redacted]" });
    assert.ok(!JSON.stringify(redacted).includes(TOKEN));
  });
});

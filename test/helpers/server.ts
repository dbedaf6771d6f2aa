import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { mintToken } from "../../src/auth/jwt.js";
import { type Env, loadConfig } from "../../src/config/load.js";
import type { Config } from "../../src/config/schema.js";
import { SERVE_SECRETS } from "../../src/config/secrets.js";
import { createLogger } from "../../src/logger.js";
import { createRuntime, type Runtime } from "../../src/runtime.js";
import { type RawResponse, rawRequest } from "./http.js";
import { freePort } from "./ports.js";

export { freePort };

export const JWT_SECRET = "test-jwt-secret-that-is-long-enough-0123456789";

export interface TestServer {
  baseUrl: string;
  dataDir: string;
  config: Config;
  runtime: Runtime;
  token(
    user: string,
    options?: { roles?: string[]; secret?: string; expiresInSeconds?: number },
  ): Promise<string>;
  /** A JSON API call; `as` names the user whose token to send (none when absent). */
  api(
    method: string,
    path: string,
    options?: { as?: string; token?: string; body?: unknown; headers?: Record<string, string> },
  ): Promise<RawResponse>;
  close(): Promise<void>;
}

/**
 * Starts the real Stowage (SQLite file + local disk in a fresh temp dir) on an ephemeral port,
 * exactly as `stowage serve` builds it. `pageDir`: serve the upload page from this build
 * (`buildPage`) rather than whatever `dist/page/` holds.
 */
export async function startStowage(env: Env = {}, options: { pageDir?: string } = {}): Promise<TestServer> {
  const dataDir = await mkdtemp(join(tmpdir(), "stowage-test-"));
  const { config, runtime } = await listening(env, dataDir, options).catch(async (error: unknown) => {
    await rm(dataDir, { recursive: true, force: true });
    throw error;
  });
  // As `stowage serve` does: the outbox's subscribers (derivatives, scanning, webhooks) run.
  runtime.startWorkers();
  const baseUrl = config.baseUrl;
  const tokens = new Map<string, string>();
  const token: TestServer["token"] = async (user, options = {}) =>
    mintToken({
      secret: options.secret ?? JWT_SECRET,
      subject: user,
      expiresInSeconds: options.expiresInSeconds ?? 600,
      roles: options.roles,
    });
  return {
    baseUrl,
    dataDir,
    config,
    runtime,
    token,
    async api(method, path, options = {}) {
      const headers: Record<string, string> = { ...options.headers };
      let bearer = options.token;
      if (bearer === undefined && options.as !== undefined) {
        bearer = tokens.get(options.as) ?? (await token(options.as));
        tokens.set(options.as, bearer);
      }
      if (bearer !== undefined) headers.authorization = `Bearer ${bearer}`;
      let body: string | undefined;
      if (options.body !== undefined) {
        body = JSON.stringify(options.body);
        headers["content-type"] ??= "application/json";
      }
      return rawRequest(`${baseUrl}${path}`, {
        method,
        headers,
        ...(body === undefined ? {} : { body }),
      });
    },
    async close() {
      await runtime.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Tries a port this many times: another process (CI's other leg) may take a free one before we listen. */
const PORT_ATTEMPTS = 5;

/**
 * A runtime listening on a port that was free a moment before. The port must be in the config
 * (URLs are signed for it), so it is chosen before listening; when someone else took it
 * meanwhile (`EADDRINUSE`), the runtime is closed and the next free port tried.
 */
async function listening(env: Env, dataDir: string, options: { pageDir?: string }): Promise<{ config: Config; runtime: Runtime }> {
  for (let attempt = 1; ; attempt++) {
    const loaded = loadConfig(
      {
        STOWAGE_PORT: String(await freePort()),
        STOWAGE_DATA_DIR: dataDir,
        STOWAGE_JWT_SECRET: JWT_SECRET,
        STOWAGE_SIGNING_SECRET: "test-signing-secret-that-is-long-enough-0123",
        LOG_LEVEL: "silent",
        ...env,
      },
      dataDir,
      SERVE_SECRETS,
    );
    const config = options.pageDir === undefined ? loaded : { ...loaded, uploadPage: { ...loaded.uploadPage, dir: options.pageDir } };
    const runtime = await createRuntime(config, createLogger(config.logLevel));
    try {
      await runtime.listen();
      return { config, runtime };
    } catch (error) {
      await runtime.close();
      if ((error as NodeJS.ErrnoException).code !== "EADDRINUSE" || attempt >= PORT_ATTEMPTS) throw error;
    }
  }
}

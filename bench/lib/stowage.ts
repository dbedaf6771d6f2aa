import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { mintToken } from "../../src/auth/jwt.js";
import { type Proc, freePort, startProcess } from "./proc.js";
import { summarizeProfile } from "./profile.js";
import { PROFILE, RESULTS_DIR, ROOT, SERVER_CPU, tsxNodeArgs } from "./settings.js";

export const JWT_SECRET = "bench-jwt-secret-that-is-long-enough-0123456789";
const SIGNING_SECRET = "bench-signing-secret-that-is-long-enough-0123";
/** Large enough that no benchmark runs into the quota unless it means to. */
export const HUGE_QUOTA = 2 ** 50;

export interface StowageServer {
  name: string;
  baseUrl: string;
  dataDir: string;
  proc: Proc;
  token(user: string): Promise<string>;
  /** Stops the server (gracefully, so a CPU profile is written) and removes its data dir. */
  stop(): Promise<void>;
}

/**
 * Starts the real `stowage serve` as a child process (`node --import tsx src/main.ts serve`, as
 * test/integration/cli.test.ts does) on an ephemeral port, in a fresh data directory, pinned to
 * the server core. No presign rate limit, a huge default quota, `LOG_LEVEL=warn`,
 * `NODE_ENV=production` (secrets from the environment, as in a deployment). With
 * `BENCH_PROFILE=1` it runs under `--cpu-prof` and its top self-time functions are printed on stop.
 */
export async function startStowage(
  name: string,
  env: Record<string, string> = {},
  /** `root`: another checkout to run (its own node_modules), for a before/after in the same run. */
  options: { configFile?: unknown; root?: string } = {},
): Promise<StowageServer> {
  const dataDir = mkdtempSync(join(process.env.BENCH_TMPDIR ?? tmpdir(), "stowage-bench-"));
  if (options.configFile !== undefined) writeFileSync(join(dataDir, "stowage.config.json"), JSON.stringify(options.configFile));
  const port = await freePort();
  // One directory per server: Node writes a profile per thread (tsx's loader hooks run on one).
  const profileDir = join(RESULTS_DIR, "profiles", `${name.replace(/[^\w.-]+/g, "-")}-${Date.now()}`);
  if (PROFILE) mkdirSync(profileDir, { recursive: true });
  const proc = await startProcess({
    name: `stowage-${name}`,
    command: process.execPath,
    args: [
      ...(PROFILE ? ["--cpu-prof", `--cpu-prof-dir=${profileDir}`] : []),
      ...tsxNodeArgs(),
      join(options.root ?? ROOT, "src/main.ts"),
      "serve",
    ],
    cwd: dataDir,
    cpu: SERVER_CPU,
    env: {
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? "/tmp",
      NODE_ENV: "production",
      STOWAGE_PORT: String(port),
      STOWAGE_DATA_DIR: dataDir,
      STOWAGE_JWT_SECRET: JWT_SECRET,
      STOWAGE_SIGNING_SECRET: SIGNING_SECRET,
      STOWAGE_PRESIGN_RATE_LIMIT: "0",
      STOWAGE_DEFAULT_QUOTA_BYTES: String(HUGE_QUOTA),
      // Presign benchmarks start many uploads per user and finish none: no pending cap in the way.
      STOWAGE_MAX_PENDING_UPLOADS: "100000",
      LOG_LEVEL: "warn",
      ...env,
    },
    ready: (output) => output.includes("Stowage is listening on"),
  });
  const tokens = new Map<string, string>();
  return {
    name,
    baseUrl: `http://127.0.0.1:${port}`,
    dataDir,
    proc,
    async token(user) {
      let token = tokens.get(user);
      if (token === undefined) {
        token = await mintToken({ secret: JWT_SECRET, subject: user, expiresInSeconds: 3600 });
        tokens.set(user, token);
      }
      return token;
    },
    async stop() {
      await proc.stop();
      rmSync(dataDir, { recursive: true, force: true });
      if (PROFILE) {
        // The main thread's profile is the one with the most samples: the largest file.
        const files = readdirSync(profileDir).map((f) => join(profileDir, f));
        const main = files.sort((a, b) => statSync(b).size - statSync(a).size)[0];
        if (main !== undefined) process.stderr.write(`\n  CPU profile of stowage ${name} (main thread): ${main}\n${summarizeProfile(main, 25)}\n`);
      }
    },
  };
}

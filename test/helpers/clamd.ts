import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { ClamdScanner, type ClamdScannerOptions } from "../../src/scanning/clamd.js";

const SCRIPT = fileURLToPath(new URL("../../scripts/clamd.sh", import.meta.url));

export interface ClamdEnv {
  host: string;
  port: number;
  /** The name clamd reports for `pattern` (with its ".UNOFFICIAL" suffix). */
  signature: string;
  /** ASCII bytes the test signature matches: a private marker, not a real virus. */
  pattern: string;
  /** clamd's StreamMaxLength in bytes. */
  streamMaxBytes: number;
  dir: string;
}

/** The clamd the suite (or the benchmarks) run against, started by `scripts/test.sh` or `npm run bench`. */
export function clamdEnv(env: NodeJS.ProcessEnv = process.env): ClamdEnv {
  const { CLAMD_TEST_HOST: host, CLAMD_TEST_PORT: port, CLAMD_TEST_SIGNATURE: signature, CLAMD_TEST_PATTERN: pattern } = env;
  const streamMaxBytes = Number(env.CLAMD_TEST_STREAM_MAX);
  if (!host || !port || !signature || !pattern || !(streamMaxBytes > 0)) {
    // Fail, never skip: a suite that silently skips clamd would pass without testing it.
    throw new Error(
      "CLAMD_TEST_HOST/CLAMD_TEST_PORT/CLAMD_TEST_SIGNATURE/CLAMD_TEST_PATTERN/CLAMD_TEST_STREAM_MAX are not set: run `npm test` or `npm run bench`, " +
      "which start a throw-away clamd (scripts/clamd.sh), or eval \"$(scripts/clamd.sh start)\" yourself.",
    );
  }
  return { host, port: Number(port), signature, pattern, streamMaxBytes, dir: env.CLAMD_TEST_DIR ?? "" };
}

/** A scanner for the test clamd, told its StreamMaxLength. */
export function clamdScanner(overrides: Partial<ClamdScannerOptions> = {}, env = clamdEnv()): ClamdScanner {
  return new ClamdScanner({ host: env.host, port: env.port, timeoutMs: 10_000, streamMaxBytes: env.streamMaxBytes, ...overrides });
}

/**
 * A second clamd of our own (for a StreamMaxLength other than the shared one's), started with
 * scripts/clamd.sh (~0.1 s); `stop()` kills it and removes its dir.
 */
export function startClamd(streamMax: string): ClamdEnv & { stop: () => void } {
  const out = execFileSync("bash", ["-c", `set -e; eval "$("$0" start)"; env | grep ^CLAMD_TEST_`, SCRIPT], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
    // CLAMD_TEST_PORT unset: the first free port, not the shared instance's.
    env: { ...process.env, CLAMD_TEST_PORT: "", CLAMD_TEST_STREAM_MAX: streamMax },
  });
  const env = Object.fromEntries(out.trim().split("\n").map((line) => [line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1)]));
  const started = clamdEnv(env);
  return { ...started, stop: () => execFileSync("bash", [SCRIPT, "stop", started.dir], { stdio: "inherit" }) };
}

import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";

/**
 * Reads a secret kept in a file under the data directory, creating it (random, mode 0600) on
 * first use. Only for the embedded default, so that `npm start` works with nothing set up;
 * production passes secrets through the environment.
 */
export function fileSecret(path: string): { value: string; created: boolean } {
  try {
    const value = readFileSync(path, "utf8").trim();
    if (value.length >= 32) return { value, created: false };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
  mkdirSync(dirname(path), { recursive: true });
  const value = randomBytes(32).toString("base64url");
  try {
    // `wx`: if another process (say `stowage token` next to `serve`) won the race, use its secret.
    writeFileSync(path, `${value}\n`, { mode: 0o600, flag: "wx" });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    return { value: readFileSync(path, "utf8").trim(), created: false };
  }
  return { value, created: true };
}

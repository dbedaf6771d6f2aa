import { chmodSync, statSync } from "node:fs";

/**
 * Makes an existing data directory private (0700). It holds the generated secrets, the SQLite
 * database and every stored object; new folders and files are private already (the entry
 * point's umask), and a folder others cannot enter also hides files an older version created
 * 0644 inside it. Answers a problem to warn about when the folder is not ours to change.
 */
export function makeDataDirPrivate(dir: string): string | undefined {
  let mode: number;
  try {
    mode = statSync(dir).mode & 0o777;
  } catch (error) {
    // Not there yet: whoever creates it does so under the umask.
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
  if ((mode & 0o077) === 0) return undefined;
  try {
    chmodSync(dir, 0o700);
  } catch (error) {
    return `could not make the data directory ${dir} private (mode ${mode.toString(8)}): ${(error as Error).message}`;
  }
  return undefined;
}

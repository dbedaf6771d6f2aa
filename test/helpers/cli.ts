import { type ChildProcess, spawn, type StdioOptions } from "node:child_process";
import { join } from "node:path";

/** The repository root. */
export const ROOT = new URL("../..", import.meta.url).pathname;

/**
 * The real `stowage` command (`src/main.ts` through tsx, as `npm run stowage` runs it), in `cwd`,
 * by default the data directory when `env` names one. Only PATH and HOME are inherited: every
 * setting is explicit.
 */
export function spawnStowage(
  args: string[],
  env: Record<string, string>,
  stdio: StdioOptions = ["ignore", "pipe", "pipe"],
  cwd = env.STOWAGE_DATA_DIR ?? ROOT,
): ChildProcess {
  // tsx resolved here, since the child runs in the data directory, outside the project.
  return spawn(process.execPath, ["--import", import.meta.resolve("tsx"), join(ROOT, "src/main.ts"), ...args], {
    cwd,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", ...env },
    stdio,
  });
}

export interface CommandResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `stowage ARGS` to completion (in `cwd`, as for {@link spawnStowage}); its exit code and output. */
export async function runStowage(args: string[], env: Record<string, string>, cwd?: string): Promise<CommandResult> {
  const child = spawnStowage(args, env, undefined, cwd);
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (c: Buffer) => (stdout += c));
  child.stderr?.on("data", (c: Buffer) => (stderr += c));
  const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
  return { code, stdout, stderr };
}

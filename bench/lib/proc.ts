import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { createWriteStream, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { pinned, RESULTS_DIR } from "./settings.js";

/** A server child process this benchmark started (and must stop). */
export interface Proc {
  name: string;
  child: ChildProcess;
  pid: number;
  /** Where its stdout and stderr go. */
  logFile: string;
  /** Peak resident memory so far (VmHWM), in bytes. */
  peakRss(): number;
  /** SIGTERM, then SIGKILL if it has not exited within `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

const running = new Set<ChildProcess>();
// Whatever happens to the benchmark, the servers it started do not outlive it.
process.once("exit", () => {
  for (const child of running) child.kill("SIGKILL");
});
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    for (const child of running) child.kill("SIGKILL");
    process.exit(130);
  });
}

export { freePort } from "../../test/helpers/ports.js";

export function logPath(name: string): string {
  const dir = join(RESULTS_DIR, "logs");
  mkdirSync(dir, { recursive: true });
  return join(dir, `${name.replace(/[^\w.-]+/g, "-")}.log`);
}

/**
 * Starts a server process pinned to `cpu` (when pinning applies), logging to
 * `.bench-results/logs/<name>.log`, and waits until `ready()` says it answers.
 */
export async function startProcess(options: {
  name: string;
  command: string;
  args: string[];
  env: Record<string, string>;
  cwd: string;
  cpu: string;
  /** Resolves true once the server answers; polled until `timeoutMs`. */
  ready: (output: string) => boolean | Promise<boolean>;
  timeoutMs?: number;
}): Promise<Proc> {
  const [command, args] = pinned(options.cpu, options.command, options.args);
  const logFile = logPath(options.name);
  const log = createWriteStream(logFile);
  const child = spawn(command, args, { cwd: options.cwd, env: options.env, stdio: ["ignore", "pipe", "pipe"] });
  running.add(child);
  let output = "";
  let exited: string | undefined;
  const collect = (chunk: Buffer) => {
    log.write(chunk);
    if (output.length < 64 * 1024) output += chunk.toString();
  };
  child.stdout?.on("data", collect);
  child.stderr?.on("data", collect);
  const gone = new Promise<void>((resolve) =>
    child.once("exit", (code, signal) => {
      running.delete(child);
      exited = `exited with ${signal ?? code}`;
      log.end();
      resolve();
    }),
  );
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  for (;;) {
    if (exited !== undefined) throw new Error(`${options.name} ${exited} before it was ready; log ${logFile}:\n${output.slice(-3000)}`);
    if (await Promise.resolve().then(() => options.ready(output)).catch(() => false)) break;
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`${options.name} was not ready within ${options.timeoutMs ?? 60_000} ms; log ${logFile}:\n${output.slice(-3000)}`);
    }
    await sleep(100);
  }
  const pid = child.pid ?? 0;
  return {
    name: options.name,
    child,
    pid,
    logFile,
    peakRss: () => peakRss(pid),
    async stop(graceMs = 10_000) {
      if (exited !== undefined) return;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
      await gone;
      clearTimeout(timer);
    },
  };
}

/** Peak resident memory of a process so far, from the kernel (bytes). */
export function peakRss(pid: number): number {
  const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return Number(match?.[1]) * 1024;
}

/** The kernel's clock ticks a second, in which /proc reports CPU time (asked once, when first needed). */
let clockTicks: number | undefined;

/** CPU time a process has used so far, user + system, every thread (ms, to the clock tick: 10 ms). */
export function cpuMs(pid: number): number {
  clockTicks ??= Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
  // The fields after the command name (which may hold spaces) start at its closing parenthesis.
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
  return ((Number(fields[11]) + Number(fields[12])) / clockTicks) * 1000;
}

/** True once anything answers HTTP at `url` (whatever the status). */
export async function answers(url: string): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
    await res.arrayBuffer();
    return true;
  } catch {
    return false;
  }
}

/** Runs a command to completion, returning its exit code, output and wall time in ms. */
export async function runCommand(
  command: string,
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<{ code: number | null; stdout: string; stderr: string; ms: number }> {
  const start = performance.now();
  const child = spawn(command, args, { cwd: options.cwd, env: options.env ?? process.env, stdio: ["ignore", "pipe", "pipe"] });
  running.add(child);
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (c: Buffer) => (stdout += c));
  child.stderr.on("data", (c: Buffer) => (stderr += c));
  const code = await new Promise<number | null>((resolve) => child.once("close", resolve));
  running.delete(child);
  return { code, stdout, stderr, ms: performance.now() - start };
}

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { ROOT, spawnStowage } from "../helpers/cli.js";
import { freePort } from "../helpers/ports.js";

const LISTENING = /Server listening at/;

/** Collects `stream` until `pattern` shows (or the process ends); kills the process group then. */
function readUntil(child: ReturnType<typeof spawn>, pattern: RegExp): Promise<string> {
  let out = "";
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${pattern}: ${out}`)), 60_000);
    child.stdout?.on("data", (c: Buffer) => {
      out += c;
      if (pattern.test(out)) {
        clearTimeout(timer);
        resolve(out);
      }
    });
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`exited ${code} before ${pattern}: ${out}`));
    });
  });
}

/** `stowage serve` on a pseudo-terminal (util-linux `script`), as a person at a terminal runs it. */
function serveOnTerminal(env: Record<string, string>) {
  const tsx = import.meta.resolve("tsx");
  const command = [process.execPath, "--import", tsx, join(ROOT, "src/main.ts"), "serve"].map((a) => `'${a}'`).join(" ");
  return spawn("script", ["-q", "-e", "-c", command, "/dev/null"], {
    cwd: env.STOWAGE_DATA_DIR,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", TERM: "xterm", ...env },
    stdio: ["pipe", "pipe", "pipe"],
    detached: true,
  });
}

describe("serve's logs", () => {
  let dataDir: string;
  const env = async () => ({ STOWAGE_DATA_DIR: dataDir, STOWAGE_PORT: String(await freePort()), LOG_LEVEL: "info" });
  before(() => {
    dataDir = mkdtempSync(join(tmpdir(), "stowage-logs-"));
  });
  after(() => rmSync(dataDir, { recursive: true, force: true }));

  it("are one JSON object a line when stdout is not a terminal", async () => {
    const child = spawnStowage(["serve"], await env());
    try {
      const out = await readUntil(child, LISTENING);
      const lines = out.trim().split("\n");
      const parsed = lines.map((line) => JSON.parse(line) as { level: number; msg: string });
      assert.ok(parsed.some((entry) => entry.level === 30 && LISTENING.test(entry.msg)), out);
    } finally {
      child.kill("SIGKILL");
    }
  });

  it("are pretty lines on a terminal, and JSON on a terminal in CI", async () => {
    for (const [extra, pretty] of [[{}, true], [{ CI: "true" }, false]] as const) {
      const child = serveOnTerminal({ ...(await env()), ...extra });
      try {
        const out = await readUntil(child, LISTENING);
        const line = out.split(/\r?\n/).find((l) => LISTENING.test(l)) ?? "";
        if (pretty) {
          // pino-pretty: `[HH:MM:ss.l] INFO: Server listening at …`, coloured.
          assert.match(line, /^\[\d\d:\d\d:\d\d\.\d{3}\] .*INFO.*: .*Server listening at http/, JSON.stringify(out));
          assert.ok(line.includes("\u001b["), "coloured");
        } else {
          assert.equal((JSON.parse(line) as { level: number }).level, 30, JSON.stringify(out));
        }
      } finally {
        // Already gone (it exited early): the assertion above carries the reason, not ESRCH here.
        killGroup(child.pid);
      }
    }
  });
});

/** Kills a process group; one already gone (it exited early) is not the failure: the test's assertion carries the reason. */
function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, "SIGKILL");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ESRCH") throw error;
  }
}

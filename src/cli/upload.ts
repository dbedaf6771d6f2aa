import { homedir } from "node:os";
import { isAbsolute, join } from "node:path";
import { Command, InvalidArgumentError } from "commander";
import { createClient, fetchTransport, fileResumeStore } from "../../packages/client/src/node.js";
import type { Env } from "../config/load.js";
import { barsDisplay, quietDisplay, type UploadDisplay } from "./upload-progress.js";
import { type FileResult, fileError, resultLine, succeeded } from "./upload-report.js";
import { sharedTransport } from "./upload-transport.js";

export interface UploadCommandOptions {
  ownerType: string;
  ownerId?: string;
  contentType?: string;
  url: string;
  token: string;
  concurrency: number;
  json: boolean;
  resumeFile: string;
}

/** Where a run writes: the command's streams, so tests and `--json` see exactly what a person would. */
export interface UploadIo {
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
}

/** Exit codes: 0 all confirmed, 1 any file failed, 130 interrupted (paused; run again to resume). */
const EXIT_FAILED = 1;
const EXIT_PAUSED = 130;

/** `stowage upload FILE…`: each file through the client SDK, with a bar per file. */
export function buildUploadCommand(env: Env): Command {
  return new Command("upload")
    .description("Upload files to a Stowage server through the client SDK: presign, PUT (in parts for large files), confirm.")
    .argument("<file...>", "files to upload")
    .requiredOption("--owner-type <type>", "the owner type (policy) to upload under, e.g. avatar, document")
    .option("--owner-id <id>", "the owner id, for owner types whose key template names one")
    .option("--content-type <type>", "the type to declare for every file (default: from each file's extension)")
    .option("--url <url>", "the server (default: $STOWAGE_BASE_URL, else http://127.0.0.1:$STOWAGE_PORT, port 8080)", httpUrl)
    .option("--token <jwt>", "bearer token (default: $STOWAGE_TOKEN; an argument is visible in the process list, the variable is not)")
    .option("--concurrency <n>", "transfers at once, over all files and parts", positiveInt, 4)
    .option("--json", "print one JSON array of results on stdout (no bars); errors carry their code")
    .option("--resume-file <path>", "where unfinished multipart uploads are remembered (default: $XDG_CACHE_HOME/stowage/uploads.json)")
    .addHelpText(
      "after",
      `
Large files go in parts. Ctrl-C pauses: parts already stored stay, and running the same
command again sends only the rest (a second Ctrl-C quits at once). Files sent in one PUT start
again. Exit code 0 when every file was confirmed, 1 when any failed, 130 when paused.

  export STOWAGE_TOKEN=$(stowage token --user alice)
  stowage upload --owner-type avatar me.png`,
    )
    .action(async (files: string[], raw: RawOptions) => {
      const json = raw.json === true;
      const token = raw.token ?? env.STOWAGE_TOKEN;
      if (token === undefined || token.trim() === "") {
        const message = "no token: set STOWAGE_TOKEN (e.g. `export STOWAGE_TOKEN=$(stowage token --user alice)`) or pass --token";
        if (!json) throw new Error(message);
        process.stdout.write(`${JSON.stringify({ error: { code: "TOKEN_REQUIRED", message } })}\n`);
        process.exitCode = EXIT_FAILED;
        return;
      }
      const options: UploadCommandOptions = {
        ownerType: raw.ownerType,
        ...(raw.ownerId === undefined ? {} : { ownerId: raw.ownerId }),
        ...(raw.contentType === undefined ? {} : { contentType: raw.contentType }),
        url: raw.url ?? defaultUrl(env),
        token: token.trim(),
        concurrency: raw.concurrency,
        json,
        resumeFile: raw.resumeFile ?? defaultResumeFile(env),
      };
      process.exitCode = await uploadFiles(files, options, { stdout: process.stdout, stderr: process.stderr });
    });
}

interface RawOptions {
  ownerType: string;
  ownerId?: string;
  contentType?: string;
  url?: string;
  token?: string;
  concurrency: number;
  json?: true;
  resumeFile?: string;
}

/**
 * Uploads `files`, at most `concurrency` transfers at once, and reports each: a bar per file on a
 * terminal, a line per finished file otherwise, one JSON array with `--json`. Returns the exit code.
 */
export async function uploadFiles(files: readonly string[], options: UploadCommandOptions, io: UploadIo): Promise<number> {
  const shared = sharedTransport(fetchTransport, options.concurrency);
  const client = createClient({
    baseUrl: options.url,
    getToken: () => options.token,
    concurrency: options.concurrency,
    resumeStore: fileResumeStore(options.resumeFile),
    transport: shared.transport,
  });
  const bars = !options.json && io.stdout.isTTY && io.stderr.isTTY;
  const display: UploadDisplay = bars ? barsDisplay(files, io.stderr) : quietDisplay;
  const print = (result: FileResult) => {
    if (result.ok) io.stdout.write(`${resultLine(result)}\n`);
    else io.stderr.write(`stowage: ${resultLine(result)}\n`);
  };

  // The first Ctrl-C pauses (transfers stop, stored parts stay); a second one quits at once.
  const pause = new AbortController();
  const onInterrupt = () => {
    if (!pause.signal.aborted) return pause.abort(new Error("interrupted"));
    display.stop();
    process.exit(EXIT_PAUSED);
  };
  process.on("SIGINT", onInterrupt);

  const results: FileResult[] = new Array<FileResult>(files.length);
  const uploadOne = async (index: number, file: string): Promise<FileResult> => {
    const counter = { sent: 0 };
    if (pause.signal.aborted) {
      return { file, ok: false, error: { code: "PAUSED", kind: "aborted", message: "Not started: the run was interrupted." }, bytesSent: 0 };
    }
    let started = false;
    try {
      const result = await shared.counting(counter, () =>
        client.upload(file, {
          ownerType: options.ownerType,
          ...(options.ownerId === undefined ? {} : { ownerId: options.ownerId }),
          ...(options.contentType === undefined ? {} : { contentType: options.contentType }),
          pause: pause.signal,
          onProgress: (p) => {
            if (!started) display.start(index, p.total);
            started = true;
            display.progress(index, p.loaded);
          },
        }),
      );
      return succeeded(file, result, counter.sent);
    } catch (error) {
      return { file, ok: false, error: fileError(error), bytesSent: counter.sent };
    }
  };

  const queue = files.map((file, index) => ({ file, index }));
  const worker = async () => {
    for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
      const result = await uploadOne(next.index, next.file);
      results[next.index] = result;
      display.finish(next.index, result);
      if (!options.json && !bars) print(result);
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(options.concurrency, files.length) }, worker));
  } finally {
    process.off("SIGINT", onInterrupt);
    display.stop();
  }

  const failed = results.filter((r) => !r.ok);
  const paused = failed.filter((r) => r.error.code === "PAUSED");
  if (options.json) io.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
  else if (bars) results.forEach(print);
  if (!options.json && files.length > 1) {
    io.stderr.write(`${results.length - failed.length} of ${results.length} files uploaded${failed.length > 0 ? `, ${failed.length} not` : ""}.\n`);
  }
  if (paused.length > 0) {
    io.stderr.write(
      `Paused. Run the same command again to resume: files sent in parts go on from the parts already stored ` +
      `(remembered in ${options.resumeFile}), smaller ones start again.\n`,
    );
    return EXIT_PAUSED;
  }
  return failed.length > 0 ? EXIT_FAILED : 0;
}

/** The server the embedded default runs: its own base URL setting, else its port on this machine. */
function defaultUrl(env: Env): string {
  if (env.STOWAGE_BASE_URL !== undefined && env.STOWAGE_BASE_URL !== "") return env.STOWAGE_BASE_URL;
  return `http://127.0.0.1:${env.STOWAGE_PORT ?? "8080"}`;
}

/** `$XDG_CACHE_HOME/stowage/uploads.json`, else `~/.cache/stowage/uploads.json` (a relative XDG path is ignored, as the spec says). */
export function defaultResumeFile(env: Env): string {
  const xdg = env.XDG_CACHE_HOME;
  const cache = xdg !== undefined && isAbsolute(xdg) ? xdg : join(env.HOME ?? homedir(), ".cache");
  return join(cache, "stowage", "uploads.json");
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 64) throw new InvalidArgumentError("must be a whole number from 1 to 64");
  return n;
}

function httpUrl(value: string): string {
  try {
    const url = new URL(value);
    if (url.protocol === "http:" || url.protocol === "https:") return value;
  } catch {
    // Refused below, with the same words.
  }
  throw new InvalidArgumentError("must be an http:// or https:// URL, e.g. http://127.0.0.1:8080");
}

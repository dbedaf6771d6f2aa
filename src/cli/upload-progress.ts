import cliProgress from "cli-progress";
import { bytes, type FileResult } from "./upload-report.js";

/** What `stowage upload` shows while files move. */
export interface UploadDisplay {
  /** File number `index` (of those given) begins: its bar appears. */
  start(index: number, size: number): void;
  progress(index: number, loaded: number): void;
  /** It is done (or failed, or paused). */
  finish(index: number, result: FileResult): void;
  /** Everything is done: bars are drawn one last time and the cursor comes back. */
  stop(): void;
}

/** Nothing while files move (non-TTY output and `--json`: the caller prints results). */
export const quietDisplay: UploadDisplay = { start() {}, progress() {}, finish() {}, stop() {} };

/**
 * A bar per file on `stream` (stderr: stdout stays for results), redrawn at most 10 times a
 * second by `cli-progress`. Its own Ctrl-C handler is off: the command's first Ctrl-C pauses,
 * and the bars then show where each file stopped.
 */
export function barsDisplay(files: readonly string[], stream: NodeJS.WriteStream): UploadDisplay {
  const width = Math.min(32, Math.max(...files.map((f) => displayName(f).length)));
  const multibar = new cliProgress.MultiBar(
    {
      stream,
      format: `{name} [{bar}] {percentage}% {loaded} of {size}  {state}`,
      barsize: 24,
      hideCursor: true,
      gracefulExit: false,
      // A bar wider than the terminal would wrap and leave a trail of copies behind.
      linewrap: false,
      autopadding: true,
      emptyOnZero: true,
    },
    cliProgress.Presets.shades_classic,
  );
  const bars = new Map<number, { bar: cliProgress.SingleBar; size: number; loaded: number }>();
  const payload = (index: number, loaded: number, size: number, state: string) => ({
    name: fit(displayName(files[index] ?? ""), width),
    loaded: bytes(loaded).padStart(9),
    size: bytes(size),
    state,
  });
  return {
    start(index, size) {
      bars.set(index, { bar: multibar.create(size, 0, payload(index, 0, size, "")), size, loaded: 0 });
    },
    progress(index, loaded) {
      const entry = bars.get(index);
      if (entry === undefined) return;
      entry.loaded = loaded;
      entry.bar.update(loaded, payload(index, loaded, entry.size, "uploading"));
    },
    finish(index, result) {
      const entry = bars.get(index);
      if (entry === undefined) return;
      const { bar, size, loaded } = entry;
      if (result.ok) bar.update(size, payload(index, size, size, result.resumed ? "done (resumed)" : "done"));
      else bar.update(loaded, payload(index, loaded, size, result.error.code === "PAUSED" ? "paused" : `failed: ${result.error.code}`));
    },
    stop: () => multibar.stop(),
  };
}

function displayName(file: string): string {
  return file.split("/").pop() ?? file;
}

/** `name` at exactly `width` characters: padded, or cut in the middle with `…`. */
function fit(name: string, width: number): string {
  if (name.length <= width) return name.padEnd(width);
  const head = Math.ceil((width - 1) / 2);
  return `${name.slice(0, head)}…${name.slice(name.length - (width - 1 - head))}`;
}

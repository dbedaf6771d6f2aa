import { statSync } from "node:fs";
import { createRequire } from "node:module";
import { Worker } from "node:worker_threads";

/**
 * Moves SQLite's WAL checkpoints off the event loop. By default the connection that commits
 * past 1000 WAL pages copies them into the database file and fsyncs it, inside that commit:
 * better-sqlite3 is synchronous, so every request waits for it. Under presign load that was a
 * third of the store's time per presign (`npm run bench -- presign-stages`) and a stall of
 * milliseconds in the p99.
 *
 * Instead the main connection checkpoints only as a backstop (`BACKSTOP_PAGES`, should this
 * thread die), and a worker thread with a connection of its own runs `wal_checkpoint(PASSIVE)`
 * whenever the WAL file has grown past `thresholdBytes`, looked at every `intervalMs`. PASSIVE
 * never waits for the writer or readers: it copies what it can and the next one copies the rest.
 * The worker starts on the first checkpoint, so a store that writes little never starts one.
 */
export class WalCheckpointer {
  /** Pages the main connection lets the WAL reach before it checkpoints itself (~400 MB). */
  static readonly BACKSTOP_PAGES = 100_000;

  readonly #file: string;
  readonly #thresholdBytes: number;
  readonly #timer: NodeJS.Timeout;
  #worker: Worker | undefined;
  #inFlight = false;
  #checkpoints = 0;
  #failure: Error | undefined;

  constructor(file: string, options: { thresholdBytes?: number; intervalMs?: number } = {}) {
    this.#file = file;
    this.#thresholdBytes = options.thresholdBytes ?? 4 * 1024 * 1024;
    this.#timer = setInterval(() => this.#check(), options.intervalMs ?? 1000);
    this.#timer.unref();
  }

  /** Checkpoints run so far, and the worker's failure if it died (the backstop then applies). */
  get stats(): { checkpoints: number; failure: Error | undefined } {
    return { checkpoints: this.#checkpoints, failure: this.#failure };
  }

  #check(): void {
    if (this.#inFlight || this.#failure !== undefined) return;
    let size: number;
    try {
      size = statSync(`${this.#file}-wal`).size;
    } catch {
      return; // no WAL yet
    }
    if (size < this.#thresholdBytes) return;
    this.#inFlight = true;
    this.#workerFor().postMessage("checkpoint");
  }

  #workerFor(): Worker {
    if (this.#worker !== undefined) return this.#worker;
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { file: this.#file, module: createRequire(import.meta.url).resolve("better-sqlite3") },
    });
    worker.on("message", (answer: { ok: boolean }) => {
      if (answer.ok) this.#checkpoints += 1;
      this.#inFlight = false;
    });
    worker.on("error", (error) => {
      this.#failure = error;
      this.#worker = undefined;
    });
    // After the listeners, which would hold the process open: a store left open never keeps it alive.
    worker.unref();
    this.#worker = worker;
    return worker;
  }

  /** Stops looking and ends the worker (a checkpoint cut short is safe: SQLite redoes it). */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    const worker = this.#worker;
    this.#worker = undefined;
    if (worker !== undefined) await worker.terminate();
  }
}

/** The worker: its own connection, one PASSIVE checkpoint per message, answered when done. */
const WORKER_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
const Database = require(workerData.module);
const db = new Database(workerData.file);
db.pragma("busy_timeout = 5000");
parentPort.on("message", () => {
  try {
    parentPort.postMessage({ ok: true, result: db.pragma("wal_checkpoint(PASSIVE)")[0] });
  } catch (error) {
    // A checkpoint that could not run now (the file busy past the timeout) is tried next time.
    parentPort.postMessage({ ok: false, message: String(error && error.message) });
  }
});
`;

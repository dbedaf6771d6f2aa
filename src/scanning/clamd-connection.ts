/**
 * One conversation with clamd over TCP: connect, send, read one NUL-terminated reply. Every wait
 * on clamd (the connect, a full send buffer draining, the reply) is bounded by a watchdog that
 * any progress resets: no progress for `timeoutMs` → `ScannerUnavailableError`. Waits on the
 * caller's body are not clamd's fault and are not timed here.
 *
 * clamd may answer before we have sent everything (INSTREAM over StreamMaxLength) and close the
 * socket while we still write: the reply is then already on its way or read, and our write fails
 * with EPIPE or ECONNRESET. So socket errors are kept, not thrown; what counts is whether a
 * whole reply arrived before the socket closed.
 */
import { connect, type Socket } from "node:net";
import { ScannerUnavailableError } from "./scanner.js";

export interface ClamdConnectionOptions {
  host: string;
  port: number;
  timeoutMs: number;
  signal?: AbortSignal | undefined;
}

type Wake = (progress: boolean) => void;

export class ClamdConnection {
  readonly #socket: Socket;
  readonly #options: ClamdConnectionOptions;
  readonly #received: Buffer[] = [];
  #connected = false;
  #closed = false;
  #error: Error | undefined;
  /** The reply without its NUL, once one has arrived whole. */
  #reply: string | undefined;
  /** The one pending wait's callback: called on every socket event. */
  #wake: Wake | undefined;

  private constructor(options: ClamdConnectionOptions) {
    this.#options = options;
    this.#socket = connect({ host: options.host, port: options.port });
    // Nagle would hold back each small frame header until the previous segment is acknowledged.
    this.#socket.setNoDelay(true);
    this.#socket.on("connect", () => {
      this.#connected = true;
      this.#wake?.(true);
    });
    this.#socket.on("data", (data: Buffer) => this.#onData(data));
    this.#socket.on("drain", () => this.#wake?.(true));
    // Kept for the error we raise when no reply came; an 'error' is always followed by 'close'.
    this.#socket.on("error", (error) => (this.#error ??= error));
    this.#socket.on("close", () => {
      this.#closed = true;
      this.#wake?.(false);
    });
  }

  /** Connects, or rejects with `ScannerUnavailableError` (refused, unreachable, no answer in time). */
  static async open(options: ClamdConnectionOptions): Promise<ClamdConnection> {
    options.signal?.throwIfAborted();
    const connection = new ClamdConnection(options);
    try {
      await connection.#wait(() => connection.#connected);
      return connection;
    } catch (error) {
      connection.close();
      throw error;
    }
  }

  /**
   * Writes the buffers in one go and waits while the socket's buffer is full (backpressure).
   * Returns false when clamd has already replied: the caller stops sending and reads the reply.
   */
  async send(...buffers: Uint8Array[]): Promise<boolean> {
    this.#options.signal?.throwIfAborted();
    if (this.#reply !== undefined) return false;
    if (this.#closed) throw this.#noReply();
    this.#socket.cork();
    for (const buffer of buffers) this.#socket.write(buffer);
    this.#socket.uncork();
    if (!this.#socket.writableNeedDrain) return true;
    return (await this.#wait(() => !this.#socket.writableNeedDrain)) === "ready";
  }

  /** The reply (without its NUL), or `ScannerUnavailableError` when clamd closed or stalled first. */
  async reply(): Promise<string> {
    await this.#wait(() => false);
    if (this.#reply === undefined) throw this.#noReply();
    return this.#reply;
  }

  /** Always called, whatever happened: nothing is kept open between scans. */
  close(): void {
    this.#socket.destroy();
  }

  #onData(data: Buffer): void {
    if (this.#reply !== undefined) return; // one command, one reply: anything after it is ignored
    const end = data.indexOf(0);
    if (end === -1) {
      this.#received.push(data);
    } else {
      this.#received.push(data.subarray(0, end));
      this.#reply = Buffer.concat(this.#received).toString("utf8");
    }
    this.#wake?.(true);
  }

  /**
   * Resolves "ready" once `ready()` holds, "replied" as soon as a whole reply is in; rejects when
   * the socket closes first, when clamd makes no progress for `timeoutMs`, or on abort.
   */
  #wait(ready: () => boolean): Promise<"ready" | "replied"> {
    const { timeoutMs, signal, host, port } = this.#options;
    return new Promise((resolve, reject) => {
      if (signal?.aborted) {
        reject(signal.reason);
        return;
      }
      const settle = (outcome: () => void) => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
        this.#wake = undefined;
        outcome();
      };
      const check: Wake = (progress) => {
        if (progress) timer.refresh();
        if (this.#reply !== undefined) settle(() => resolve("replied"));
        else if (ready()) settle(() => resolve("ready"));
        else if (this.#closed) settle(() => reject(this.#noReply()));
      };
      const onAbort = () => settle(() => reject(signal?.reason));
      const timer = setTimeout(() => {
        const what = this.#connected ? "made no progress" : "did not accept the connection";
        settle(() => reject(new ScannerUnavailableError(`clamd at ${host}:${port} ${what} for ${timeoutMs} ms`)));
      }, timeoutMs);
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#wake = check;
      check(false);
    });
  }

  #noReply(): ScannerUnavailableError {
    const { host, port } = this.#options;
    const cause = this.#error === undefined ? {} : { cause: this.#error };
    if (!this.#connected) return new ScannerUnavailableError(`could not connect to clamd at ${host}:${port}`, cause);
    const partial = Buffer.concat(this.#received).toString("utf8");
    const what = partial === "" ? "without a reply" : `in the middle of a reply (${JSON.stringify(partial)})`;
    const code = (this.#error as NodeJS.ErrnoException | undefined)?.code;
    // The one known way to get here with a healthy clamd: see ClamdScannerOptions.streamMaxBytes.
    const hint = code === "EPIPE" || code === "ECONNRESET" ? " while we were sending (over its StreamMaxLength? set streamMaxBytes)" : "";
    return new ScannerUnavailableError(`clamd at ${host}:${port} closed the connection ${what}${hint}`, cause);
  }
}

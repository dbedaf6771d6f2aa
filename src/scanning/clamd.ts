/**
 * A `Scanner` backed by clamd (ClamAV's daemon) over TCP, speaking its INSTREAM command: the
 * object's bytes go to clamd as they are read, in length-prefixed chunks, so nothing holds the
 * whole object in memory. One connection per scan, closed whatever happens.
 *
 * @example
 * const scanner = new ClamdScanner({ host: "127.0.0.1", port: 3310, timeoutMs: 30_000 });
 * const verdict = await scanner.scan(createReadStream(path));
 * if (verdict.kind === "infected") console.warn(`found ${verdict.signature}`);
 */
import type { Readable } from "node:stream";
import { ClamdConnection } from "./clamd-connection.js";
import { checkPingReply, parseScanReply } from "./clamd-reply.js";
import type { ScanOptions, Scanner, ScanVerdict } from "./scanner.js";

export interface ClamdScannerOptions {
  host: string;
  port: number;
  /**
   * How long clamd may make no progress (not accept the connection, not take our bytes, not
   * answer) before the scan fails with `ScannerUnavailableError`. The wait for the verdict after
   * the last byte counts too, so allow for clamd's scan of the biggest object. Default 30 000.
   */
  timeoutMs?: number;
  /** The largest INSTREAM chunk; bigger pieces of the body are split. Default 64 KiB. */
  chunkBytes?: number;
  /**
   * clamd's StreamMaxLength in bytes (its default is 25 MiB). Set it: a body longer than this is
   * then "too-large" here, before its excess is sent. Unset, the verdict relies on clamd's own
   * "size limit exceeded" reply, which is often lost: clamd answers and closes while we are still
   * writing, our next write fails (EPIPE), and Node destroys the socket before it has read the
   * answer waiting in it; the scan then fails with `ScannerUnavailableError` (1 run in 30 here).
   */
  streamMaxBytes?: number;
}

const INSTREAM = Buffer.from("zINSTREAM\0");
const PING = Buffer.from("zPING\0");
/** A zero-length chunk ends the stream. */
const END = Buffer.alloc(4);
/** Chunk lengths are unsigned 32-bit big-endian. */
const MAX_CHUNK = 0xffff_ffff;

export class ClamdScanner implements Scanner {
  readonly #host: string;
  readonly #port: number;
  readonly #timeoutMs: number;
  readonly #chunkBytes: number;
  readonly #streamMaxBytes: number;

  constructor(options: ClamdScannerOptions) {
    this.#host = options.host;
    this.#port = options.port;
    this.#timeoutMs = options.timeoutMs ?? 30_000;
    this.#chunkBytes = options.chunkBytes ?? 64 * 1024;
    this.#streamMaxBytes = options.streamMaxBytes ?? Number.POSITIVE_INFINITY;
    if (!(this.#timeoutMs > 0)) throw new RangeError(`timeoutMs must be positive, not ${this.#timeoutMs}`);
    if (!Number.isInteger(this.#chunkBytes) || this.#chunkBytes < 1 || this.#chunkBytes > MAX_CHUNK) {
      throw new RangeError(`chunkBytes must be a whole number from 1 to ${MAX_CHUNK}, not ${this.#chunkBytes}`);
    }
    if (!(this.#streamMaxBytes >= 0)) throw new RangeError(`streamMaxBytes must be 0 or more, not ${this.#streamMaxBytes}`);
  }

  async scan(body: Readable, options: ScanOptions = {}): Promise<ScanVerdict> {
    const { signal } = options;
    // Aborting must also end a wait on the body itself (the connection only times waits on clamd).
    const onAbort = () => body.destroy(signal?.reason instanceof Error ? signal.reason : new Error("aborted", { cause: signal?.reason }));
    signal?.addEventListener("abort", onAbort, { once: true });
    try {
      const connection = await ClamdConnection.open({ host: this.#host, port: this.#port, timeoutMs: this.#timeoutMs, signal });
      try {
        const sent = await this.#stream(connection, body);
        if (sent === "too-large") return { kind: "too-large" };
        if (sent === "all") await connection.send(END);
        return parseScanReply(await connection.reply());
      } finally {
        connection.close();
      }
    } finally {
      signal?.removeEventListener("abort", onAbort);
    }
  }

  async ping(): Promise<void> {
    const connection = await ClamdConnection.open({ host: this.#host, port: this.#port, timeoutMs: this.#timeoutMs });
    try {
      await connection.send(PING);
      checkPingReply(await connection.reply());
    } finally {
      connection.close();
    }
  }

  /**
   * Sends the command and the body's chunks: "all" of them, or stops at "replied" (clamd answered
   * before the end) or "too-large" (the body went over streamMaxBytes). Returning early leaves the
   * for-await loop, which destroys the body: the rest of it is never read.
   */
  async #stream(connection: ClamdConnection, body: Readable): Promise<"all" | "replied" | "too-large"> {
    if (!(await connection.send(INSTREAM))) return "replied";
    let total = 0;
    for await (const piece of body as AsyncIterable<Buffer | string>) {
      const bytes = typeof piece === "string" ? Buffer.from(piece) : piece;
      total += bytes.length;
      if (total > this.#streamMaxBytes) return "too-large";
      for (let at = 0; at < bytes.length; at += this.#chunkBytes) {
        const chunk = bytes.subarray(at, at + this.#chunkBytes);
        const length = Buffer.allocUnsafe(4);
        length.writeUInt32BE(chunk.length);
        if (!(await connection.send(length, chunk))) return "replied";
      }
    }
    return "all";
  }
}

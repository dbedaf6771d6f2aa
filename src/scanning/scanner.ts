/**
 * What Stowage needs from a virus scanner: a verdict on one object's bytes, streamed, and a
 * health check. `ClamdScanner` (clamd over TCP) is the real one, `MemoryScanner` the test double.
 *
 * A verdict is an answer about the bytes; `ScannerUnavailableError` means there was no answer.
 * The two must never be confused: an upload whose scan failed stays waiting and is scanned again
 * later, it is neither published as clean nor rejected as infected.
 */
import type { Readable } from "node:stream";

export type ScanVerdict =
  | { kind: "clean" }
  | { kind: "infected"; signature: string }
  /** The scanner refused to read this much (clamd's StreamMaxLength): no verdict on the content. */
  | { kind: "too-large" };

export interface ScanOptions {
  /** Aborting stops the scan and rejects with `signal.reason` (not a `ScannerUnavailableError`). */
  signal?: AbortSignal;
}

export interface Scanner {
  /**
   * Reads `body` to its end (or until the scanner has answered) and returns the verdict. The body
   * is consumed either way; it is destroyed when the scan stops early. An error of the body itself
   * rejects with that error; a scanner that cannot be reached or gives no valid answer rejects
   * with {@link ScannerUnavailableError}.
   */
  scan(body: Readable, options?: ScanOptions): Promise<ScanVerdict>;
  /** Resolves when the scanner answers; rejects with {@link ScannerUnavailableError} when not. */
  ping(): Promise<void>;
}

/**
 * The scanner gave no verdict: the connection was refused, it made no progress for too long,
 * it closed without a reply, or it replied something we do not understand. `cause` holds the
 * socket error, if there was one.
 */
export class ScannerUnavailableError extends Error {
  override readonly name = "ScannerUnavailableError";

  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
  }
}

export function isScannerUnavailable(value: unknown): value is ScannerUnavailableError {
  return value instanceof ScannerUnavailableError;
}

import type { ByteRange } from "./source.js";

/** One PUT of bytes to a presigned URL. */
export interface PutRequest {
  url: string;
  headers: Record<string, string>;
  body: ByteRange;
  signal: AbortSignal;
  /** No progress for this long: the transfer is cut (`STALLED`) and may be retried. */
  stallTimeoutMs: number;
  /** Bytes of this body sent so far (may go back to 0 when a try starts again). */
  onProgress(loaded: number): void;
}

export interface PutResponse {
  status: number;
  header(name: string): string | null;
  text: string;
}

/** Sends one PUT; rejects on a network failure, a stall or the signal, resolves on any answer. */
export type Transport = (request: PutRequest) => Promise<PutResponse>;

/**
 * Calls `onStall` when `touch` has not been called for `ms`; returns `touch` and `stop`. The
 * check runs every second or so, so a cut comes within about a second of the limit.
 */
export function stallWatch(ms: number, onStall: () => void): { touch(): void; stop(): void } {
  let last = Date.now();
  const timer = setInterval(() => {
    if (Date.now() - last >= ms) {
      clearInterval(timer);
      onStall();
    }
  }, Math.min(1000, Math.max(50, ms / 4)));
  return { touch: () => (last = Date.now()), stop: () => clearInterval(timer) };
}

/** The error a transfer with no progress is cut with. */
export class StallError extends Error {
  override readonly name = "StallError";
}

/**
 * The `Scanner` test double: "infected" when the body contains a marker, with the same streaming
 * contract as clamd (the body is read chunk by chunk, never held whole, and a marker split
 * between two chunks is still found). For unit tests of whatever runs scans; clamd itself is
 * tested against the real daemon (test/integration/clamd.test.ts).
 *
 * @example
 * const scanner = new MemoryScanner({ markers: { "EICAR-LIKE-TEST": "Test.Marker" } });
 * await scanner.scan(Readable.from(["…EICAR-LIKE-TEST…"])); // { kind: "infected", signature: "Test.Marker" }
 */
import type { Readable } from "node:stream";
import { ScannerUnavailableError, type ScanOptions, type Scanner, type ScanVerdict } from "./scanner.js";

export interface MemoryScannerOptions {
  /** Marker text → the signature name reported when a body contains it. */
  markers: Readonly<Record<string, string>>;
  /** Bodies longer than this are "too-large". Default: no limit. */
  maxBytes?: number;
  /** While true, scan() and ping() fail with `ScannerUnavailableError` (as a stopped clamd would). */
  unavailable?: boolean;
}

export class MemoryScanner implements Scanner {
  /** Flip to simulate clamd going away and coming back. */
  unavailable: boolean;
  /** How many scans reached a verdict, for assertions. */
  scans = 0;
  readonly #markers: [Buffer, string][];
  readonly #maxBytes: number;
  /** Enough of the previous chunk's tail to find a marker that straddles two chunks. */
  readonly #overlap: number;

  constructor(options: MemoryScannerOptions) {
    this.#markers = Object.entries(options.markers).map(([marker, name]) => [Buffer.from(marker), name]);
    if (this.#markers.some(([marker]) => marker.length === 0)) throw new RangeError("a marker must not be empty");
    this.#maxBytes = options.maxBytes ?? Number.POSITIVE_INFINITY;
    this.#overlap = Math.max(0, ...this.#markers.map(([marker]) => marker.length - 1));
    this.unavailable = options.unavailable ?? false;
  }

  async scan(body: Readable, options: ScanOptions = {}): Promise<ScanVerdict> {
    options.signal?.throwIfAborted();
    if (this.unavailable) {
      body.destroy();
      throw new ScannerUnavailableError("the memory scanner is set to be unavailable");
    }
    let tail = Buffer.alloc(0);
    let total = 0;
    for await (const piece of body as AsyncIterable<Buffer | string>) {
      options.signal?.throwIfAborted();
      const bytes = typeof piece === "string" ? Buffer.from(piece) : piece;
      total += bytes.length;
      if (total > this.#maxBytes) return this.#verdict({ kind: "too-large" });
      const window = Buffer.concat([tail, bytes]);
      const hit = this.#markers.find(([marker]) => window.includes(marker));
      if (hit !== undefined) return this.#verdict({ kind: "infected", signature: hit[1] });
      tail = Buffer.from(window.subarray(Math.max(0, window.length - this.#overlap))); // a copy: not the whole chunk
    }
    return this.#verdict({ kind: "clean" });
  }

  async ping(): Promise<void> {
    if (this.unavailable) throw new ScannerUnavailableError("the memory scanner is set to be unavailable");
  }

  #verdict(verdict: ScanVerdict): ScanVerdict {
    this.scans++;
    return verdict;
  }
}

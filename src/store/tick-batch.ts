interface Waiting<I, O> {
  item: I;
  resolve: (value: O) => void;
  reject: (error: unknown) => void;
}

/**
 * Groups the calls made within one event-loop turn into one statement: under load many presigns
 * reach their quota read and their insert in the same turn, and one multi-row INSERT (one
 * commit, one round trip) or one `WHERE … IN (…)` costs far less than one each. A lone call
 * waits only for `setImmediate`.
 *
 * `run` must answer one result per item, in order. A group's failure is every member's, except
 * where `retryAlone` says the error may belong to one item (a constraint violation): then each
 * item is tried alone, so one bad row fails only its own caller. That retry is safe only when
 * a group is one statement, all or nothing; an unreachable or locked database is not retried
 * item by item (it would only multiply the wait).
 *
 * With `maxInFlight`, at most that many flushes run at once: calls made meanwhile wait and go
 * out together as soon as one is answered (group commit). Under load the groups grow to what
 * arrived during a round trip, instead of one small transaction per turn: on PostgreSQL most
 * turns brought 1–5 presigns, each group paying its five round trips. An idle batch still
 * flushes at the next `setImmediate`.
 */
export class TickBatch<I, O> {
  readonly #run: (items: readonly I[]) => Promise<O[]>;
  readonly #max: number;
  readonly #retryAlone: (error: unknown) => boolean;
  readonly #maxInFlight: number;
  #queue: Waiting<I, O>[] = [];
  readonly #flushes = new Set<Promise<void>>();

  constructor(
    run: (items: readonly I[]) => Promise<O[]>,
    options: { max: number; retryAlone?: (error: unknown) => boolean; maxInFlight?: number },
  ) {
    if (!Number.isInteger(options.max) || options.max < 1) throw new RangeError(`max must be a positive integer, not ${options.max}`);
    const maxInFlight = options.maxInFlight ?? Number.POSITIVE_INFINITY;
    if (!(maxInFlight >= 1)) throw new RangeError(`maxInFlight must be at least 1, not ${maxInFlight}`);
    this.#run = run;
    this.#max = options.max;
    this.#retryAlone = options.retryAlone ?? (() => false);
    this.#maxInFlight = maxInFlight;
  }

  add(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.#queue.push({ item, resolve, reject });
      if (this.#queue.length === 1) setImmediate(() => this.#flushIfFree());
    });
  }

  /** Sends what is queued now and waits until every group sent has its answer (before closing). */
  async drain(): Promise<void> {
    if (this.#queue.length > 0) this.#startFlush();
    await Promise.all(this.#flushes);
  }

  /** A flush, unless `maxInFlight` are out already: then the first of them to end sends the queue. */
  #flushIfFree(): void {
    if (this.#queue.length > 0 && this.#flushes.size < this.#maxInFlight) this.#startFlush();
  }

  #startFlush(): void {
    const flush = this.#flush();
    this.#flushes.add(flush);
    void flush.finally(() => {
      this.#flushes.delete(flush);
      this.#flushIfFree();
    });
  }

  async #flush(): Promise<void> {
    const queue = this.#queue;
    this.#queue = [];
    const groups: Waiting<I, O>[][] = [];
    for (let i = 0; i < queue.length; i += this.#max) groups.push(queue.slice(i, i + this.#max));
    await Promise.all(groups.map((group) => this.#settle(group)));
  }

  async #settle(group: Waiting<I, O>[]): Promise<void> {
    let results: O[];
    try {
      results = await this.#run(group.map((w) => w.item));
    } catch (error) {
      if (group.length > 1 && this.#retryAlone(error)) await Promise.all(group.map((w) => this.#settle([w])));
      else for (const w of group) w.reject(error);
      return;
    }
    if (results.length !== group.length) {
      // Never re-run: the writes may have happened.
      const error = new Error(`A batch of ${group.length} calls answered ${results.length} results`);
      for (const w of group) w.reject(error);
      return;
    }
    group.forEach((w, i) => w.resolve(results[i] as O));
  }
}

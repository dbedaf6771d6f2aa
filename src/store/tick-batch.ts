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
 * `run` must answer one result per item, in order. When a group fails, each item is retried
 * alone, so one bad row fails only its own caller and every caller gets its own answer (a
 * group must be one statement, all or nothing, for that retry to be safe).
 */
export class TickBatch<I, O> {
  readonly #run: (items: readonly I[]) => Promise<O[]>;
  readonly #max: number;
  #queue: Waiting<I, O>[] = [];

  constructor(run: (items: readonly I[]) => Promise<O[]>, options: { max: number }) {
    this.#run = run;
    this.#max = options.max;
  }

  add(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.#queue.push({ item, resolve, reject });
      if (this.#queue.length === 1) setImmediate(() => void this.#flush());
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
    try {
      const results = await this.#run(group.map((w) => w.item));
      if (results.length !== group.length) throw new Error(`A batch of ${group.length} calls answered ${results.length} results`);
      group.forEach((w, i) => w.resolve(results[i] as O));
    } catch (error) {
      if (group.length === 1) {
        group[0]?.reject(error);
        return;
      }
      await Promise.all(group.map((w) => this.#settle([w])));
    }
  }
}

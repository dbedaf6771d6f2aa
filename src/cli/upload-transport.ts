import { AsyncLocalStorage } from "node:async_hooks";
import type { PutRequest, Transport } from "../../packages/client/src/node.js";

/** A transport that shares `limit` connections among every file and part, and counts what it sent. */
export interface SharedTransport {
  transport: Transport;
  /** Runs `upload`, adding to `counter.sent` the bytes its PUTs hand to the network (retries included). */
  counting<T>(counter: { sent: number }, upload: () => Promise<T>): Promise<T>;
}

/**
 * Wraps `inner` so that at most `limit` PUTs run at once, whichever files they belong to: the SDK
 * runs each file's parts `limit` at a time, and `stowage upload` runs `limit` files at a time, so
 * without a shared limit a run could open `limit`² connections. Bytes are counted per upload
 * through the async context the upload runs in (one client serves every file, so the transport
 * cannot tell them apart otherwise): what a resumed upload really sent.
 */
export function sharedTransport(inner: Transport, limit: number): SharedTransport {
  const context = new AsyncLocalStorage<{ sent: number }>();
  let running = 0;
  const waiting: (() => void)[] = [];
  const acquire = (signal: AbortSignal) =>
    new Promise<void>((resolve, reject) => {
      if (signal.aborted) return reject(signal.reason);
      if (running < limit) {
        running += 1;
        return resolve();
      }
      const go = () => {
        signal.removeEventListener("abort", onAbort);
        running += 1;
        resolve();
      };
      const onAbort = () => {
        waiting.splice(waiting.indexOf(go), 1);
        reject(signal.reason);
      };
      waiting.push(go);
      signal.addEventListener("abort", onAbort, { once: true });
    });
  const release = () => {
    running -= 1;
    waiting.shift()?.();
  };
  const transport: Transport = async (request: PutRequest) => {
    await acquire(request.signal);
    const counter = context.getStore();
    let last = 0;
    try {
      return await inner({
        ...request,
        onProgress: (loaded) => {
          // A try starting again reports from 0: only bytes beyond the last report are new.
          if (loaded > last && counter !== undefined) counter.sent += loaded - last;
          last = loaded;
          request.onProgress(loaded);
        },
      });
    } finally {
      release();
    }
  };
  return { transport, counting: (counter, upload) => context.run(counter, upload) };
}

import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Webhook } from "standardwebhooks";

/** A message the receiver verified, as a customer's handler would see it. */
export interface ReceivedMessage {
  id: string;
  /** The payload's `type`. */
  type: string;
  body: string;
  headers: IncomingHttpHeaders;
  receivedAt: Date;
  /** The status it was answered with. */
  status: number;
}

/** How the receiver answers the next verified request; see `answer()`. */
export interface Answer {
  status: number;
  retryAfter?: string;
  location?: string;
  /** Wait this long before answering. */
  delayMs?: number;
  /**
   * Never answer (`head`); send the status and headers and never finish the body (`body`); or
   * send a body that never ends, as fast as the client reads it (`endless`).
   */
  hang?: "head" | "body" | "endless";
}

export interface WebhookReceiver {
  /** Where to send: `http://127.0.0.1:<port>/hooks`. */
  readonly url: string;
  /** Verified messages, in arrival order. */
  readonly messages: readonly ReceivedMessage[];
  /** Requests refused with 400 because they did not verify, with the verifier's reason. */
  readonly refused: readonly { reason: string; headers: IncomingHttpHeaders }[];
  /** Every request that arrived, verified or not. */
  readonly requests: number;
  /** Queues answers for the next verified requests; when the queue is empty, 204. */
  answer(...answers: Answer[]): void;
  /** Drops answers still queued, so one failed test leaves nothing behind for the next. */
  clearAnswers(): void;
  /** Stops listening and drops open connections: connections are refused until `up()`. */
  down(): Promise<void>;
  /** Listens again, on the same port. */
  up(): Promise<void>;
  /** Resolves with the messages once `predicate` holds for them; rejects after `timeoutMs`. */
  waitFor(predicate: (messages: readonly ReceivedMessage[]) => boolean, timeoutMs?: number): Promise<readonly ReceivedMessage[]>;
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 1024 * 1024;

/**
 * A real HTTP receiver on 127.0.0.1 that checks every request the way a customer's would: with
 * the `standardwebhooks` package and the one secret it was given (timestamps within 5 minutes).
 */
export async function startWebhookReceiver(options: { secret: string }): Promise<WebhookReceiver> {
  const verifier = new Webhook(options.secret);
  const messages: ReceivedMessage[] = [];
  const refused: { reason: string; headers: IncomingHttpHeaders }[] = [];
  const queue: Answer[] = [];
  const waiters = new Set<() => void>();
  const timers = new Set<NodeJS.Timeout>();
  let requests = 0;
  let listening = false;

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    requests++;
    const raw = await readBody(req);
    const body = raw.toString("utf8");
    let type: string;
    try {
      // The raw bytes, as receivers should verify: a re-encoded string may differ from what was signed.
      const payload = verifier.verify(raw, flatten(req.headers)) as { type?: unknown } | undefined;
      type = typeof payload?.type === "string" ? payload.type : "";
    } catch (error) {
      refused.push({ reason: error instanceof Error ? error.message : String(error), headers: req.headers });
      res.writeHead(400, { "content-type": "text/plain" }).end("signature not verified");
      return;
    }
    const answer = queue.shift() ?? { status: 204 };
    messages.push({ id: String(req.headers["webhook-id"]), type, body, headers: req.headers, receivedAt: new Date(), status: answer.status });
    for (const wake of waiters) wake();
    if (answer.delayMs !== undefined) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          timers.delete(timer);
          resolve();
        }, answer.delayMs);
        timers.add(timer);
      });
    }
    if (answer.hang === "head") return;
    const headers: Record<string, string> = {};
    if (answer.retryAfter !== undefined) headers["retry-after"] = answer.retryAfter;
    if (answer.location !== undefined) headers.location = answer.location;
    if (answer.hang === "body") {
      res.writeHead(answer.status, { ...headers, "content-length": "1000" });
      res.write("partial");
      return;
    }
    if (answer.hang === "endless") {
      res.writeHead(answer.status, headers);
      const chunk = Buffer.alloc(16 * 1024, "x");
      const more = (): void => {
        while (!res.destroyed && res.write(chunk));
      };
      res.on("drain", more);
      more();
      return;
    }
    res.writeHead(answer.status, headers).end(answer.status === 204 ? undefined : `answered ${answer.status}`);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => res.destroy(error instanceof Error ? error : undefined));
  });
  const listen = (port: number) =>
    new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, "127.0.0.1", () => {
        server.off("error", reject);
        listening = true;
        resolve();
      });
    });
  await listen(0);
  const port = (server.address() as AddressInfo).port;

  const stop = async (): Promise<void> => {
    for (const timer of timers) clearTimeout(timer);
    timers.clear();
    if (!listening) return;
    listening = false;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    // close() alone waits for keep-alive and hanging connections; a receiver that is down has none.
    server.closeAllConnections();
    await closed;
  };

  return {
    url: `http://127.0.0.1:${port}/hooks`,
    get messages() {
      return messages;
    },
    get refused() {
      return refused;
    },
    get requests() {
      return requests;
    },
    answer: (...answers) => void queue.push(...answers),
    clearAnswers: () => void queue.splice(0),
    down: stop,
    up: () => listen(port),
    waitFor: (predicate, timeoutMs = 5000) =>
      new Promise((resolve, reject) => {
        const check = () => {
          if (!predicate(messages)) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve(messages);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`webhook receiver: not there after ${timeoutMs} ms; got ${messages.length} verified `
            + `(${messages.map((m) => m.type).join(", ")}) and ${refused.length} refused (${refused.map((r) => r.reason).join(", ")})`));
        }, timeoutMs);
        waiters.add(check);
        check();
      }),
    close: stop,
  };
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new Error(`webhook receiver: body over ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** The verifier takes one string per header; Node gives arrays for repeated ones. */
function flatten(headers: IncomingHttpHeaders): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) flat[name] = Array.isArray(value) ? value.join(", ") : value;
  }
  return flat;
}

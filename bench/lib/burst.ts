import { type Answer, expectStatus, type PresignAnswer, request } from "./http.js";

/** One batch sent at once: each request's latency and the count of each status. */
export interface Batch {
  latencies: number[];
  statuses: Record<string, number>;
}

export interface Fired extends Batch {
  answers: Answer[];
  /** From the first send to the last answer. */
  wallMs: number;
}

/**
 * Sends every request at once, each timed from its own start, over keep-alive sockets opened
 * beforehand (one per request), so no timing includes a TCP handshake.
 */
export async function fire(baseUrl: string, count: number, send: (i: number) => Promise<Answer>): Promise<Fired> {
  await Promise.all(Array.from({ length: count }, () => request(`${baseUrl}/healthz`)));
  const statuses: Record<string, number> = {};
  const answers: Answer[] = new Array<Answer>(count);
  const start = performance.now();
  const latencies = await Promise.all(
    Array.from({ length: count }, async (_, i) => {
      const sent = performance.now();
      const answer = await send(i);
      const ms = performance.now() - sent;
      statuses[answer.status] = (statuses[answer.status] ?? 0) + 1;
      answers[i] = answer;
      return ms;
    }),
  );
  return { latencies, statuses, answers, wallMs: performance.now() - start };
}

/** PUTs `body` to each accepted upload's URL, eight at a time (not timed). */
export async function putAll(uploads: readonly PresignAnswer[], body: Buffer): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < uploads.length) {
      const upload = uploads[next++] as PresignAnswer;
      expectStatus(await request(upload.url, { method: "PUT", headers: upload.headers, body }), 200, "upload PUT");
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
}

/** The `error.code` of an error answer, if it has one. */
export function errorCode(answer: Answer): string | undefined {
  try {
    return answer.json<{ error?: { code?: string } }>().error?.code;
  } catch {
    return undefined;
  }
}

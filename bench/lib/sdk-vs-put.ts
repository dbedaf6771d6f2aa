import { createReadStream, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createClient } from "../../packages/client/src/node.js";
import { confirmUpload, expectStatus, pngBytes, type PresignAnswer, request } from "./http.js";
import type { StowageServer } from "./stowage.js";

/** The owner type both sides upload under: one PUT however large, so both send the same requests' bytes. */
export const SDK_BENCH_POLICY = {
  allowedTypes: ["image/png"], maxBytes: 4096 * 1024 * 1024, urlTtlSeconds: 3600, multipartThresholdBytes: 5 * 1024 ** 4,
  keyTemplate: "bench/{userId}/{id}.{ext}", bucket: "private", visibility: "private",
};

/** A file of `size` bytes that sniffs as PNG, in `dir`. */
export function benchFile(dir: string, size: number): string {
  const path = join(dir, `bench-${size}.png`);
  writeFileSync(path, pngBytes(size));
  return path;
}

/** Runs `task` for every item, `concurrency` at a time. */
async function pool<T>(items: readonly T[], concurrency: number, task: (item: T) => Promise<void>): Promise<void> {
  const queue = [...items];
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      for (let item = queue.shift(); item !== undefined; item = queue.shift()) await task(item);
    }),
  );
}

function presign(server: StowageServer, token: string, size: number): Promise<PresignAnswer> {
  return request(`${server.baseUrl}/v1/uploads`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify({ ownerType: "bench", filename: "bench.png", contentType: "image/png", size }),
  }).then((answer) => expectStatus(answer, 201, "presign").json<PresignAnswer>());
}

async function put(target: PresignAnswer, path: string): Promise<void> {
  expectStatus(await request(target.url, { method: "PUT", headers: target.headers, body: createReadStream(path) }), 200, "bare PUT");
}

/**
 * The bare baseline: `files` presigned PUTs of the file at `path`, `concurrency` at a time, each
 * body streamed from disk over a keep-alive `node:http` agent. The presigns happen before the
 * clock starts, and nothing is confirmed: only the bytes' trip to the store is timed.
 */
export async function barePuts(
  server: StowageServer,
  user: string,
  path: string,
  size: number,
  files: number,
  concurrency: number,
): Promise<number> {
  const token = await server.token(user);
  const targets: PresignAnswer[] = [];
  for (let i = 0; i < files; i++) targets.push(await presign(server, token, size));
  const start = performance.now();
  await pool(targets, concurrency, (target) => put(target, path));
  return performance.now() - start;
}

/**
 * The protocol written by hand, for telling the SDK's own cost from the round trips any client
 * makes: presign → PUT → confirm, all timed, no retries, no progress. Over `node:http` (the PUT
 * body streamed from disk), or over `fetch` (the body read into memory first, outside the clock),
 * which is what the SDK sends with in Node.
 */
export async function bareFlows(
  server: StowageServer,
  user: string,
  path: string,
  size: number,
  files: number,
  concurrency: number,
  client: "node:http" | "fetch" = "node:http",
): Promise<number> {
  const token = await server.token(user);
  const bytes = client === "fetch" ? new Uint8Array(readFileSync(path)) : undefined;
  const viaFetch = async (method: string, url: string, headers: Record<string, string>, body?: string | Uint8Array<ArrayBuffer>) => {
    const response = await fetch(url, { method, headers, ...(body === undefined ? {} : { body }) });
    const text = await response.text();
    if (!response.ok) throw new Error(`${method} ${url}: ${response.status} ${text.slice(0, 300)}`);
    return text;
  };
  const start = performance.now();
  await pool(Array.from({ length: files }, (_, i) => i), concurrency, async () => {
    if (bytes === undefined) {
      const target = await presign(server, token, size);
      await put(target, path);
      expectStatus(await confirmUpload(server.baseUrl, token, target.id), 200, "confirm");
      return;
    }
    const auth = { authorization: `Bearer ${token}` };
    const body = JSON.stringify({ ownerType: "bench", filename: "bench.png", contentType: "image/png", size });
    const target = JSON.parse(await viaFetch("POST", `${server.baseUrl}/v1/uploads`, { ...auth, "content-type": "application/json" }, body)) as PresignAnswer;
    await viaFetch("PUT", target.url, target.headers, bytes);
    await viaFetch("POST", `${server.baseUrl}/v1/uploads/${target.id}/confirm`, auth);
  });
  return performance.now() - start;
}

/**
 * The same files through the SDK as an application would call it, `concurrency` uploads at a
 * time: policy check (fetched once per client), presign, PUT (fetch, streamed from the path,
 * counted for progress), confirm. Everything is timed.
 */
export async function sdkUploads(
  server: StowageServer,
  user: string,
  path: string,
  files: number,
  concurrency: number,
): Promise<{ ms: number; before: number[]; after: number[] }> {
  const token = await server.token(user);
  const client = createClient({ baseUrl: server.baseUrl, getToken: () => token, concurrency });
  // Per upload: from the call to its first byte handed to the network (policy check, presign),
  // and from its last byte to the answer (the PUT's response, confirm): where the SDK's extra time goes.
  const before: number[] = [];
  const after: number[] = [];
  const start = performance.now();
  await pool(Array.from({ length: files }, (_, i) => i), concurrency, async () => {
    const called = performance.now();
    let first: number | undefined;
    let lastByte: number | undefined;
    // A progress callback, as every UI passes one: its cost is part of the SDK's.
    const result = await client.upload(path, {
      ownerType: "bench",
      contentType: "image/png",
      onProgress: (p) => {
        if (p.loaded > 0 && first === undefined) first = performance.now();
        // The transport's last chunk; the SDK reports the total once more after the PUT's answer.
        if (p.loaded === p.total && lastByte === undefined) lastByte = performance.now();
      },
    });
    if (result.status !== "confirmed") throw new Error(`SDK upload ended ${result.status}`);
    if (first === undefined || lastByte === undefined) throw new Error("no progress reported");
    before.push(first - called);
    after.push(performance.now() - lastByte);
  });
  return { ms: performance.now() - start, before, after };
}

import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import {
  createClient,
  memoryResumeStore,
  type ResumeStore,
  type Transport,
  type UploadProgress,
} from "../../packages/client/src/node.js";
import { fetchTransport } from "../../packages/client/src/transport-fetch.js";
import { PNG, png } from "../helpers/fixtures.js";
import { MP4_HEADER, MiB, runSweep, SWEEP_BACKENDS, type SweepBackend } from "../helpers/sweep.js";
import { storedBytes } from "../helpers/stored.js";
import { rejection } from "./rejection.js";

const video = (size: number) => Buffer.concat([MP4_HEADER, randomBytes(size - MP4_HEADER.length)]);
const FAST_RETRY = { retries: 3, minDelayMs: 10, maxDelayMs: 50, stallTimeoutMs: 5000 };

/** A transport that counts the bytes it sends and lets a test meddle with single tries. */
function meddling(meddle: (request: Parameters<Transport>[0], attempt: number) => ReturnType<Transport> | undefined = () => undefined) {
  const tries = new Map<string, number>();
  const stats = { bytes: 0, puts: 0 };
  const transport: Transport = (request) => {
    const part = new URL(request.url).searchParams.get("partNumber") ?? "whole";
    const attempt = (tries.get(part) ?? 0) + 1;
    tries.set(part, attempt);
    stats.puts += 1;
    const meddled = meddle(request, attempt);
    if (meddled !== undefined) return meddled;
    let last = 0;
    return fetchTransport({
      ...request,
      onProgress: (loaded) => {
        stats.bytes += Math.max(0, loaded - last);
        last = loaded;
        request.onProgress(loaded);
      },
    });
  };
  return { transport, stats, tries };
}

for (const [name, makeBackend] of SWEEP_BACKENDS) describe(`the Node SDK on ${name}`, () => {
  let backend: SweepBackend;
  let dir: string;
  before(async () => {
    backend = await makeBackend({ STOWAGE_DEFAULT_QUOTA_BYTES: String(200 * MiB) });
    dir = mkdtempSync(join(tmpdir(), "stowage-sdk-"));
  });
  after(async () => backend.close());

  const clientFor = (user: string, options: { transport?: Transport; resumeStore?: ResumeStore } = {}) =>
    createClient({ baseUrl: backend.server.baseUrl, getToken: () => backend.server.token(user), retry: FAST_RETRY, ...options });

  it("uploads a Buffer in one PUT with byte-accurate progress and answers the confirmed upload", async () => {
    const events: UploadProgress[] = [];
    const client = clientFor("ann");
    const result = await client.upload(PNG, { ownerType: "avatar", filename: "me.png", contentType: "image/png", onProgress: (p) => events.push(p) });
    assert.equal(result.status, "confirmed");
    assert.equal(result.size, PNG.length);
    assert.equal(result.contentType, "image/png");
    assert.match(result.url ?? "", /^https?:\/\//);
    assert.equal(result.resumed, false);
    assert.deepEqual(events.at(-1), { loaded: PNG.length, total: PNG.length });
    assert.ok(events.every((e) => e.total === PNG.length && e.loaded <= e.total));
    const view = await client.get(result.id);
    assert.equal(view.filename, "me.png");
    assert.equal((await client.quota()).usedBytes, PNG.length);
  });

  it("lists every upload page by page, deletes, and hands out download URLs", async () => {
    const client = clientFor("lister");
    const ids = [];
    for (let i = 0; i < 3; i++) ids.push((await client.upload(png(200 + i), { ownerType: "avatar", filename: `p${i}.png`, contentType: "image/png" })).id);
    const listed = [];
    for await (const upload of client.list({ pageSize: 2 })) listed.push(upload.id);
    assert.deepEqual([...listed].sort(), [...ids].sort());
    const download = await client.downloadUrl(ids[0] as string);
    assert.match(download.url, /^https?:\/\//);
    await client.delete(ids[0] as string);
    assert.equal((await client.get(ids[0] as string)).status, "deleted");
    const error = await rejection(clientFor("someone-else").get(ids[1] as string));
    assert.equal(error.kind, "refused");
    assert.equal(error.status, 404);
  });

  it("refuses a file over the policy's limit before any byte moves, with the server's code", async () => {
    const { transport, stats } = meddling();
    const client = clientFor("big", { transport });
    const error = await rejection(client.upload(png(6_000_000), { ownerType: "avatar", contentType: "image/png" }));
    assert.equal(error.code, "FILE_TOO_LARGE");
    assert.equal(error.kind, "refused");
    assert.deepEqual(error.details, { size: 6_000_000, maxBytes: 5_000_000 });
    const wrongType = await rejection(client.upload(PNG, { ownerType: "avatar", contentType: "image/gif" }));
    assert.equal(wrongType.code, "CONTENT_TYPE_NOT_ALLOWED");
    assert.equal(stats.puts, 0);
    assert.equal((await client.quota()).pendingUploads, 0, "nothing was presigned");
  });

  it("reports a quota refusal as a typed error with the server's figures", async () => {
    const client = createClient({ baseUrl: backend.server.baseUrl, getToken: () => backend.server.token("full"), retry: FAST_RETRY });
    const tight = await makeBackend({ STOWAGE_DEFAULT_QUOTA_BYTES: String(PNG.length + 10) });
    try {
      const small = createClient({ baseUrl: tight.server.baseUrl, getToken: () => tight.server.token("full"), retry: FAST_RETRY });
      await small.upload(new Blob([PNG], { type: "image/png" }), { ownerType: "avatar" });
      const error = await rejection(small.upload(PNG, { ownerType: "avatar", contentType: "image/png" }));
      assert.equal(error.code, "QUOTA_EXCEEDED");
      assert.equal(error.status, 413);
      assert.equal(error.details?.limitBytes, PNG.length + 10);
      assert.equal(error.details?.usedBytes, PNG.length);
    } finally {
      await tight.close();
    }
    assert.equal((await client.quota()).usedBytes, 0);
  });

  it("uploads a file from a path in parallel parts, retrying failed parts and re-signing a refused URL", async () => {
    const path = join(dir, "clip.mp4");
    const body = video(12 * MiB + 5);
    writeFileSync(path, body);
    const { transport, tries } = meddling((request, attempt) => {
      const part = new URL(request.url).searchParams.get("partNumber");
      if (part === "1" && attempt === 1) return Promise.reject(new TypeError("fetch failed"));
      // A broken signature: the store itself answers 403, and the SDK signs the part again.
      if (part === "2" && attempt === 1) return fetchTransport({ ...request, url: request.url.replace(/(Signature|sig)=([^&]{4})/i, "$1=0000") });
      return undefined;
    });
    const retries: unknown[] = [];
    const parts = new Set<number>();
    const client = clientFor("vid", { transport });
    const result = await client.upload(path, {
      ownerType: "video",
      contentType: "video/mp4",
      onRetry: (info) => retries.push(info),
      onProgress: (p) => p.part && parts.add(p.part.partNumber),
    });
    assert.equal(result.status, "confirmed");
    assert.equal(result.size, body.length);
    assert.deepEqual([...parts].sort(), [1, 2, 3]);
    assert.deepEqual([tries.get("1"), tries.get("2"), tries.get("3")], [2, 2, 1]);
    assert.equal(retries.length, 2, JSON.stringify(retries));
    const stored = await storedBytes(backend.server.runtime.driver, { bucket: "private", key: result.key, length: 64 });
    assert.deepEqual(stored, body.subarray(0, 64));
  });

  it("stops at a 4xx refusal of a part without retrying it", async () => {
    const { transport, tries } = meddling((request) =>
      new URL(request.url).searchParams.get("partNumber") === "1"
        ? Promise.resolve({ status: 400, header: () => null, text: "<Error><Code>InvalidArgument</Code><Message>Bad part</Message></Error>" })
        : undefined,
    );
    const error = await rejection(clientFor("vid4", { transport }).upload(video(6 * MiB), { ownerType: "video", contentType: "video/mp4" }));
    assert.equal(error.code, "INVALID_ARGUMENT");
    assert.equal(error.message, "Bad part");
    assert.equal(tries.get("1"), 1);
  });

  it("names the CORS fix when the store's answer hides the part's ETag", async () => {
    const { transport } = meddling((request) =>
      fetchTransport(request).then((response) => ({ ...response, header: (h: string) => (h.toLowerCase() === "etag" ? null : response.header(h)) })),
    );
    const error = await rejection(clientFor("cors", { transport }).upload(video(6 * MiB), { ownerType: "video", contentType: "video/mp4" }));
    assert.equal(error.kind, "configuration");
    assert.equal(error.code, "ETAG_NOT_EXPOSED");
    assert.match(error.message, /stowage storage cors/);
  });

  it("aborts: transfers stop, the pending multipart upload is deleted, nothing stays reserved", async () => {
    const controller = new AbortController();
    const client = clientFor("quitter");
    const error = await rejection(
      client.upload(video(16 * MiB), {
        ownerType: "video",
        contentType: "video/mp4",
        concurrency: 1,
        signal: controller.signal,
        onProgress: (p) => p.loaded > 6 * MiB && controller.abort(),
      }),
    );
    assert.equal(error.code, "ABORTED");
    assert.equal(error.kind, "aborted");
    assert.equal((await client.get(String(error.uploadId))).status, "deleted");
    const quota = await client.quota();
    assert.deepEqual([quota.reservedBytes, quota.pendingUploads, quota.usedBytes], [0, 0, 0]);
    const { events } = await runSweep(backend.server, { now: new Date(Date.now() + 3600_000), jobs: ["orphans"] });
    assert.equal(events.filter((e) => e.action === "deleted").length, 0, JSON.stringify(events));
  });

  it("pauses, then resumes the same file sending only the parts the store lacks", async () => {
    const path = join(dir, "long.mp4");
    const body = video(21 * MiB);
    writeFileSync(path, body);
    const resumeStore = memoryResumeStore();
    const pause = new AbortController();
    const first = meddling();
    const paused = await rejection(
      clientFor("pauser", { transport: first.transport, resumeStore }).upload(path, {
        ownerType: "video",
        contentType: "video/mp4",
        concurrency: 1,
        pause: pause.signal,
        onProgress: (p) => p.loaded >= 11 * MiB && pause.abort(),
      }),
    );
    assert.equal(paused.code, "PAUSED");
    const second = meddling();
    const result = await clientFor("pauser", { transport: second.transport, resumeStore }).upload(path, { ownerType: "video", contentType: "video/mp4" });
    assert.equal(result.status, "confirmed");
    assert.equal(result.resumed, true);
    assert.ok(second.stats.bytes <= body.length - 10 * MiB, `sent ${second.stats.bytes} of ${body.length} again`);
    const stored = await storedBytes(backend.server.runtime.driver, { bucket: "private", key: result.key, length: 64 });
    assert.deepEqual(stored, body.subarray(0, 64));
    assert.equal((await clientFor("pauser").quota()).usedBytes, body.length);
  });

  it("uploads a stream of known size", async () => {
    const body = video(11 * MiB);
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let at = 0; at < body.length; at += 64 * 1024) controller.enqueue(new Uint8Array(body.subarray(at, at + 64 * 1024)));
        controller.close();
      },
    });
    const result = await clientFor("streamer").upload({ stream, size: body.length, name: "s.mp4", type: "video/mp4" }, { ownerType: "video" });
    assert.equal(result.size, body.length);
  });
});

for (const [name, makeBackend] of SWEEP_BACKENDS) describe(`end-to-end integrity through the Node SDK on ${name}`, () => {
  let backend: SweepBackend;
  before(async () => {
    backend = await makeBackend();
  });
  after(async () => backend.close());

  /** A transport that flips one byte of the body on its way (same length), as a bad link would. */
  const corrupting = (which: (url: URL) => boolean) => {
    const sent: { url: URL; headers: Record<string, string> }[] = [];
    const transport: Transport = (request) => {
      const url = new URL(request.url);
      sent.push({ url, headers: request.headers });
      if (!which(url)) return fetchTransport(request);
      const body = request.body;
      const flipped = {
        size: body.size,
        stream: () =>
          body.stream().pipeThrough(
            new TransformStream<Uint8Array, Uint8Array>({
              transform(chunk, sink) {
                const copy = new Uint8Array(chunk);
                if (copy.length > 100) copy[100] = (copy[100] ?? 0) ^ 0xff;
                sink.enqueue(copy);
              },
            }),
          ),
      };
      return fetchTransport({ ...request, body: flipped });
    };
    return { transport, sent };
  };
  const client = (user: string, transport: Transport) =>
    createClient({ baseUrl: backend.server.baseUrl, getToken: () => backend.server.token(user), retry: FAST_RETRY, transport });

  it("signs each body's MD5, so the store refuses a PUT whose bytes changed on the way", async () => {
    const { transport, sent } = corrupting(() => true);
    const error = await rejection(client("flip", transport).upload(png(5000), { ownerType: "avatar", contentType: "image/png" }));
    assert.equal(error.kind, "refused");
    assert.equal(error.code, "BAD_DIGEST");
    assert.equal(error.status, 400);
    assert.equal(sent.length, 1, "a refusal is not retried");
    // One PUT cannot be resumed: the pending upload is deleted, its reservation released.
    const flip = createClient({ baseUrl: backend.server.baseUrl, getToken: () => backend.server.token("flip") });
    assert.equal((await flip.get(String(error.uploadId))).status, "deleted");
    assert.deepEqual([(await flip.quota()).reservedBytes, (await flip.quota()).pendingUploads], [0, 0]);
    assert.ok(Object.keys(sent[0]?.headers ?? {}).some((h) => h.toLowerCase() === "content-md5"));
  });

  it("refuses a corrupted part, and sends every part with its own MD5", async () => {
    const { transport, sent } = corrupting((url) => url.searchParams.get("partNumber") === "2");
    const error = await rejection(client("flip-part", transport).upload(video(11 * MiB), { ownerType: "video", contentType: "video/mp4" }));
    assert.equal(error.code, "BAD_DIGEST");
    assert.ok(sent.every((s) => Object.keys(s.headers).some((h) => h.toLowerCase() === "content-md5")));
  });

  it("keeps an upload whose part was refused resumable: the same file again resumes it, reserving nothing twice", async () => {
    const body = video(11 * MiB);
    const resumeStore = memoryResumeStore();
    const { transport } = corrupting((url) => url.searchParams.get("partNumber") === "3");
    const user = "flip-resume";
    const getToken = () => backend.server.token(user);
    const sdk = (t: Transport) => createClient({ baseUrl: backend.server.baseUrl, getToken, retry: FAST_RETRY, transport: t, resumeStore });
    const error = await rejection(sdk(transport).upload(body, { ownerType: "video", contentType: "video/mp4", concurrency: 1 }));
    assert.equal(error.code, "BAD_DIGEST");
    const held = await sdk(fetchTransport).quota();
    assert.deepEqual([held.pendingUploads, held.reservedBytes], [1, body.length], "the refused upload is still pending");

    const again = meddling();
    const result = await sdk(again.transport).upload(body, { ownerType: "video", contentType: "video/mp4" });
    assert.equal(result.resumed, true);
    assert.equal(again.stats.bytes, body.length - 10 * MiB, "parts 1 and 2 were stored before part 3 was refused: only part 3 again");
    const quota = await sdk(fetchTransport).quota();
    assert.deepEqual([quota.pendingUploads, quota.reservedBytes, quota.usedBytes], [0, 0, body.length]);
  });

  it("uploads untouched bytes with integrity on (the default), and without it when asked", async () => {
    const { transport, sent } = corrupting(() => false);
    const done = await client("fine", transport).upload(video(11 * MiB), { ownerType: "video", contentType: "video/mp4" });
    assert.equal(done.status, "confirmed");
    const off = await client("fine", transport).upload(png(3000), { ownerType: "avatar", contentType: "image/png", integrity: false });
    assert.equal(off.status, "confirmed");
    assert.ok(!Object.keys(sent.at(-1)?.headers ?? {}).some((h) => h.toLowerCase() === "content-md5"));
  });
});

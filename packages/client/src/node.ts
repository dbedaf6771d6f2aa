/**
 * `@stowage/client` for Node (≥ 20.19): everything the browser entry has, plus file paths,
 * Buffers and streams as input, MD5 from `node:crypto`, and a file to remember unfinished
 * uploads in (`fileResumeStore`).
 *
 * @example
 * const client = createClient({ baseUrl: "http://localhost:3000", getToken: () => process.env.STOWAGE_TOKEN! });
 * const upload = await client.upload("./video.mp4", { ownerType: "video" });
 */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdir, readFile, rename, stat, writeFile } from "node:fs/promises";
import { basename, dirname } from "node:path";
import { Readable } from "node:stream";
import { type ClientOptions, clientFor, type StowageClient } from "./client.js";
import type { Md5 } from "./md5.js";
import { memoryResumeStore, type ResumeEntry, type ResumeStore } from "./resume.js";
import { blobSource, type ByteRange, streamSource, type UploadSource } from "./source.js";
import { fetchTransport } from "./transport-fetch.js";

/** A path, bytes, a Blob, a stream with its size, or any source. */
export type NodeInput =
  | string
  | Uint8Array
  | Blob
  | { stream: Readable | ReadableStream<Uint8Array>; size: number; name?: string; type?: string }
  | UploadSource;

export function createClient(options: ClientOptions): StowageClient<NodeInput> {
  return clientFor<NodeInput>({ toSource: nodeSource, transport: fetchTransport, md5: cryptoMd5, resumeStore: memoryResumeStore }, options);
}

/** Common types by extension, for files given by path (the server checks the bytes either way). */
const TYPES: Record<string, string> = {
  png: "image/png", jpg: "image/jpeg", jpeg: "image/jpeg", gif: "image/gif", webp: "image/webp", avif: "image/avif",
  heic: "image/heic", svg: "image/svg+xml", pdf: "application/pdf", mp4: "video/mp4", mov: "video/quicktime",
  webm: "video/webm", mp3: "audio/mpeg", ogg: "audio/ogg", wav: "audio/wav", m4a: "audio/mp4", txt: "text/plain",
  csv: "text/csv", json: "application/json", zip: "application/zip",
};

export function typeFromName(name: string): string | undefined {
  const ext = /\.([a-z0-9]+)$/i.exec(name)?.[1]?.toLowerCase();
  return ext === undefined ? undefined : TYPES[ext];
}

/** A file on disk, read range by range (each try of a part opens its own stream): memory stays flat. */
export async function fileSource(path: string): Promise<UploadSource> {
  const info = await stat(path);
  if (!info.isFile()) throw new TypeError(`${path} is not a file.`);
  return {
    size: info.size,
    name: basename(path),
    type: typeFromName(path),
    lastModified: info.mtimeMs,
    range: (start, end): Promise<ByteRange> =>
      Promise.resolve({
        size: end - start,
        stream: () =>
          end === start
            ? new ReadableStream({ start: (c) => c.close() })
            : (Readable.toWeb(createReadStream(path, { start, end: end - 1, highWaterMark: 256 * 1024 })) as ReadableStream<Uint8Array>),
      }),
  };
}

async function nodeSource(input: NodeInput): Promise<UploadSource> {
  if (typeof input === "string") return fileSource(input);
  if (input instanceof Uint8Array) return blobSource(new Blob([input as Uint8Array<ArrayBuffer>]));
  if (input instanceof Blob) return blobSource(input);
  if ("stream" in input) {
    const web = input.stream instanceof Readable ? (Readable.toWeb(input.stream) as ReadableStream<Uint8Array>) : input.stream;
    return streamSource(web, { size: input.size, name: input.name, type: input.type });
  }
  return input;
}

/** MD5 with `node:crypto` (OpenSSL's, several times the speed of a JavaScript one). */
export const cryptoMd5: Md5 = async (range) => {
  const hash = createHash("md5");
  const reader = range.stream().getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    hash.update(value);
  }
  return hash.digest("base64");
};

/**
 * Unfinished uploads remembered in a JSON file (written atomically: a temp file renamed over it),
 * so an upload interrupted by a crash resumes in the next process.
 */
export function fileResumeStore(path: string): ResumeStore {
  const load = async (): Promise<Record<string, ResumeEntry>> => {
    try {
      return JSON.parse(await readFile(path, "utf8")) as Record<string, ResumeEntry>;
    } catch {
      return {};
    }
  };
  let queue = Promise.resolve();
  const update = (change: (entries: Record<string, ResumeEntry>) => Record<string, ResumeEntry>) => {
    const next = queue.then(async () => {
      const entries = change(await load());
      await mkdir(dirname(path), { recursive: true, mode: 0o700 });
      const tmp = `${path}.${process.pid}.tmp`;
      await writeFile(tmp, JSON.stringify(entries), { mode: 0o600 });
      await rename(tmp, path);
    });
    queue = next.catch(() => undefined);
    return next;
  };
  return {
    get: async (key) => {
      await queue;
      return (await load())[key];
    },
    set: (key, entry) => update((entries) => ({ ...entries, [key]: entry })),
    delete: (key) => update((entries) => Object.fromEntries(Object.entries(entries).filter(([name]) => name !== key))),
  };
}

export * from "./index.js";

import { createHash, randomUUID } from "node:crypto";
import { once } from "node:events";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { StowageError } from "../../errors.js";
import { badDigest } from "../bad-digest.js";
import type { CompletedPart, ObjectRef, StoredPart } from "../driver.js";

interface Manifest extends ObjectRef {
  contentType: string;
  cacheControl: string;
}

const UPLOAD_ID = /^[0-9a-f-]{36}$/;

/** One part arriving at the local object endpoint. */
export interface PartUpload extends ObjectRef {
  uploadId: string;
  partNumber: number;
  body: Readable;
  contentLength: number;
  /** The part's MD5 (base64), signed or sent: a part with another digest is refused. */
  contentMd5?: string | undefined;
}

/**
 * Multipart uploads on local disk, mirroring S3's flow so clients need one code path: parts
 * land in `tmp/multipart/{uploadId}/`, each with the MD5 ETag S3 would give it, and are
 * concatenated in order at completion. Re-sending a part replaces it, as on S3.
 */
export class LocalMultipart {
  readonly #dir: string;

  constructor(tmpDir: string) {
    this.#dir = join(tmpDir, "multipart");
  }

  async create(manifest: Manifest): Promise<string> {
    const uploadId = randomUUID();
    await mkdir(this.#uploadDir(uploadId), { recursive: true });
    await writeFile(join(this.#uploadDir(uploadId), "manifest.json"), JSON.stringify(manifest));
    return uploadId;
  }

  /** Streams one part to disk; returns its quoted MD5 ETag. A part that fails its Content-MD5 replaces nothing. */
  async putPart(ref: PartUpload): Promise<string> {
    await this.#manifest(ref);
    const hash = createHash("md5");
    let received = 0;
    const tmp = join(this.#uploadDir(ref.uploadId), `${ref.partNumber}.${randomUUID()}.tmp`);
    const counter = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        received += chunk.length;
        hash.update(chunk);
        callback(received > ref.contentLength ? new StowageError("BODY_TOO_LARGE", "The part is longer than signed.") : null, chunk);
      },
    });
    try {
      await pipeline(ref.body, counter, createWriteStream(tmp, { flags: "wx" })).catch((error: unknown) => {
        if (error instanceof StowageError) throw error;
        throw new StowageError("INCOMPLETE_BODY", "The part ended before all bytes arrived.", { cause: error });
      });
      if (received !== ref.contentLength) throw new StowageError("INCOMPLETE_BODY", `Received ${received} of ${ref.contentLength} bytes.`);
      const digest = hash.digest();
      const computedMd5 = digest.toString("base64");
      if (ref.contentMd5 !== undefined && computedMd5 !== ref.contentMd5) throw badDigest(ref.contentMd5, computedMd5);
      const etag = `"${digest.toString("hex")}"`;
      // The ETag rides in the file name, so a part and its ETag are replaced together by one rename.
      await this.#dropPart(ref.uploadId, ref.partNumber);
      await rename(tmp, join(this.#uploadDir(ref.uploadId), `${ref.partNumber}.${etag.slice(1, -1)}.part`));
      return etag;
    } finally {
      await rm(tmp, { force: true });
    }
  }

  /** Concatenates the listed parts into `target` (a new temp file) after checking every ETag. */
  async assemble(ref: ObjectRef & { uploadId: string; parts: readonly CompletedPart[] }, target: string): Promise<Manifest> {
    const manifest = await this.#manifest(ref);
    const stored = await this.#parts(ref.uploadId);
    let previous = 0;
    const files: string[] = [];
    for (const part of ref.parts) {
      if (part.partNumber <= previous) throw new StowageError("INVALID_REQUEST", "Parts must be listed in ascending order.");
      previous = part.partNumber;
      const file = stored.get(part.partNumber);
      if (file === undefined || file.etag !== part.etag.replaceAll("\"", "")) {
        throw new StowageError("INVALID_REQUEST", `Part ${part.partNumber} was not uploaded or its ETag does not match.`);
      }
      files.push(file.path);
    }
    const out = createWriteStream(target, { flags: "wx", flush: true });
    try {
      // Written chunk by chunk: a pipeline per part into the one stream (`end: false`) would leave
      // its listeners on it, one set per part.
      for (const file of files) {
        for await (const chunk of createReadStream(file)) if (!out.write(chunk)) await once(out, "drain");
      }
      await new Promise<void>((resolve, reject) => out.end((error?: Error | null) => (error ? reject(error) : resolve())));
    } catch (error) {
      out.destroy();
      throw error;
    }
    return manifest;
  }

  /** The parts stored so far, in order, with their sizes; `UPLOAD_GONE` once completed or aborted. */
  async list(ref: ObjectRef & { uploadId: string }): Promise<StoredPart[]> {
    await this.#manifest(ref);
    const parts = await this.#parts(ref.uploadId);
    const listed: StoredPart[] = [];
    for (const [partNumber, { etag, path }] of [...parts].sort(([a], [b]) => a - b)) {
      const info = await stat(path).catch(() => undefined);
      // A part replaced or dropped while listing is simply not there yet.
      if (info !== undefined) listed.push({ partNumber, etag: `"${etag}"`, size: info.size });
    }
    return listed;
  }

  async abort(uploadId: string): Promise<void> {
    if (!UPLOAD_ID.test(uploadId)) return;
    await rm(this.#uploadDir(uploadId), { recursive: true, force: true });
  }

  #uploadDir(uploadId: string): string {
    if (!UPLOAD_ID.test(uploadId)) throw new StowageError("NOT_FOUND", "No such multipart upload.");
    return join(this.#dir, uploadId);
  }

  async #manifest(ref: ObjectRef & { uploadId: string }): Promise<Manifest> {
    let manifest: Manifest;
    try {
      manifest = JSON.parse(await readFile(join(this.#uploadDir(ref.uploadId), "manifest.json"), "utf8")) as Manifest;
    } catch {
      throw new StowageError("UPLOAD_GONE", "This multipart upload no longer exists.");
    }
    if (manifest.bucket !== ref.bucket || manifest.key !== ref.key) throw new StowageError("NOT_FOUND", "No such multipart upload.");
    return manifest;
  }

  async #parts(uploadId: string): Promise<Map<number, { etag: string; path: string }>> {
    const parts = new Map<number, { etag: string; path: string }>();
    for (const name of await readdir(this.#uploadDir(uploadId))) {
      const match = /^(\d+)\.([0-9a-f]{32})\.part$/.exec(name);
      if (match?.[1] !== undefined && match[2] !== undefined) {
        parts.set(Number(match[1]), { etag: match[2], path: join(this.#uploadDir(uploadId), name) });
      }
    }
    return parts;
  }

  async #dropPart(uploadId: string, partNumber: number): Promise<void> {
    for (const name of await readdir(this.#uploadDir(uploadId))) {
      if (name.startsWith(`${partNumber}.`) && name.endsWith(".part")) await rm(join(this.#uploadDir(uploadId), name), { force: true });
    }
  }
}

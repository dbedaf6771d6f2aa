/**
 * `@stowage/client/uppy`: an Uppy 6 uploader that sends files through a Stowage server with this
 * SDK. `@uppy/aws-s3` 6 cannot: it speaks S3's multipart XML itself (Create/ListParts/Complete),
 * where Stowage creates, lists and completes multipart uploads on the server, and confirms them.
 *
 * It emits Uppy's own events (`upload-progress`, `upload-success` with the confirmed upload as
 * `response.body` and its `url` as `uploadURL`, `upload-error` with a {@link StowageClientError}
 * whose message is written for people), pauses through the SDK's `pause` signal and resumes by
 * uploading again (the SDK sends only the parts the store lacks), and deletes the pending upload
 * when a file is removed or everything is cancelled.
 *
 * @example
 * const uppy = new Uppy<Meta, StowageBody>().use(Dashboard, { inline: true, target: "#upload" });
 * uppy.use(StowageUploader, { baseUrl: "https://uploads.example.com", getToken, ownerType: "avatar" });
 * uppy.on("upload-success", (file, response) => attach(response.body?.id));
 */
import { BasePlugin, EventManager, type PluginOpts, type Uppy } from "@uppy/core";
import { type Body, filterFilesToEmitUploadStarted, filterFilesToUpload, type Meta, TaskQueue, type UppyFile } from "@uppy/core/utils";
import type { ClientOptions, StowageClient } from "./client.js";
import { isStowageClientError, StowageClientError } from "./errors.js";
import { type BrowserInput, createClient } from "./index.js";
import { describeUploadError } from "./messages.js";
import { blobSource } from "./source.js";
import type { UploadResult } from "./upload.js";

/** What `upload-success` carries as `response.body`: the confirmed upload. */
export type StowageBody = UploadResult & Body;

/**
 * Kept in the file's Uppy state (`file.stowage`), so Golden Retriever persists it: after a reload
 * the restored file is uploaded with the same owner, name, size, type and `lastModified`, which is
 * what the SDK's resume store (in `localStorage`) keys an unfinished multipart upload by.
 */
export interface StowageFileState {
  ownerType: string;
  ownerId?: string;
  lastModified: number;
  status: "uploading" | "paused" | "confirmed" | "failed";
  /** The server's upload id, once known (paused, or confirmed). */
  uploadId?: string;
  /** The latest transfer retry, for a "retrying…" hint. */
  retry?: { attempt: number; reason: string; partNumber?: number };
  /** Why it failed, in the error's own terms (`describeUploadError` words it). */
  error?: { kind: string; code: string; status?: number; details?: Record<string, unknown> };
}

// Augmentations repeat the interfaces' own type parameters, used or not.
/* eslint-disable @typescript-eslint/no-unused-vars */
declare module "@uppy/core/utils" {
  export interface LocalUppyFile<M extends Meta, B extends Body> {
    stowage?: StowageFileState;
  }
  export interface RemoteUppyFile<M extends Meta, B extends Body> {
    stowage?: StowageFileState;
  }
}

declare module "@uppy/core" {
  export interface PluginTypeRegistry<M extends Meta, B extends Body> {
    StowageUploader: StowageUploader<M, B>;
  }
}
/* eslint-enable @typescript-eslint/no-unused-vars */

/** The client's options, where `concurrency` (parts of one file at once, default 4) is `partConcurrency`. */
export type UploaderClientOptions = Omit<ClientOptions, "concurrency"> & { partConcurrency?: number };

/** A ready client (e.g. shared with the rest of the app), or the options to make one. */
export type StowageUploaderOptions<M extends Meta, B extends Body> = PluginOpts &
  ({ client: StowageClient<BrowserInput> } | UploaderClientOptions) & {
    /** The policy each file is uploaded under, e.g. `"avatar"`, or chosen per file. */
    ownerType: string | ((file: UppyFile<M, B>) => string);
    ownerId?: string | ((file: UppyFile<M, B>) => string | undefined);
    /**
     * Files uploaded at once (default 3). Each multipart file has its own parts in flight too
     * (the client's `concurrency`, default 4), and browsers open 6 connections per host.
     */
    concurrency?: number;
  };

type Outcome =
  | { kind: "done"; result: UploadResult }
  | { kind: "paused"; uploadId: string | undefined }
  | { kind: "aborted" }
  | { kind: "failed"; error: StowageClientError };

export class StowageUploader<M extends Meta, B extends Body> extends BasePlugin<StowageUploaderOptions<M, B>, M, B> {
  readonly #client: StowageClient<BrowserInput>;
  readonly #queue: TaskQueue;
  /** Cancels each file in flight or paused (for `uninstall`). */
  readonly #active = new Map<string, () => void>();

  constructor(uppy: Uppy<M, B>, opts: StowageUploaderOptions<M, B>) {
    super(uppy, opts);
    this.type = "uploader";
    this.id = opts.id ?? "StowageUploader";
    if ("client" in opts) {
      this.#client = opts.client;
    } else {
      // `concurrency` here counts files; the client's own (parts of one file) is `partConcurrency`.
      const { concurrency: _files, partConcurrency, ...clientOptions } = opts;
      this.#client = createClient({ ...clientOptions, ...(partConcurrency === undefined ? {} : { concurrency: partConcurrency }) });
    }
    this.#queue = new TaskQueue({ concurrency: opts.concurrency ?? 3 });
  }

  override install(): void {
    this.#setResumable(true);
    this.uppy.addUploader(this.#upload);
  }

  override uninstall(): void {
    this.#setResumable(false);
    this.uppy.removeUploader(this.#upload);
    for (const cancel of [...this.#active.values()]) cancel();
  }

  /** Uppy shows pause/resume buttons, and `pauseResume` works, only with this capability. */
  #setResumable(value: boolean): void {
    this.uppy.setState({ capabilities: { ...this.uppy.getState().capabilities, resumableUploads: value } });
  }

  /** Uppy's uploader step: resolves when every file is confirmed, failed or removed (a paused one waits). */
  #upload = async (fileIDs: string[]): Promise<void> => {
    const files = filterFilesToUpload(this.uppy.getFilesByIds(fileIDs));
    this.uppy.emit("upload-start", filterFilesToEmitUploadStarted(files));
    await Promise.allSettled(files.map((file) => this.#uploadFile(file.id)));
  };

  #uploadFile(id: string): Promise<void> {
    return new Promise<void>((resolve) => {
      const events = new EventManager(this.uppy);
      const abort = new AbortController();
      let pause: AbortController | undefined;
      let running = false;
      let settled = false;
      /** The pending upload a paused file keeps on the server. */
      let pausedId: string | undefined;
      let last: Promise<unknown> = Promise.resolve();
      const settle = () => {
        if (settled) return;
        settled = true;
        events.remove();
        this.#active.delete(id);
        resolve();
      };
      const start = () => {
        if (abort.signal.aborted || (pause !== undefined && !pause.signal.aborted)) return;
        const paused = new AbortController();
        pause = paused;
        // A resume waits for the paused attempt to wind down, and takes its place in the queue.
        const previous = last;
        last = this.#queue.add(async () => {
          await previous;
          if (paused.signal.aborted || abort.signal.aborted) return;
          running = true;
          const outcome = await this.#attempt(id, abort.signal, paused.signal).finally(() => (running = false));
          if (outcome.kind === "paused") return void (pausedId = outcome.uploadId);
          if (outcome.kind === "done") this.#emitSuccess(id, outcome.result);
          if (outcome.kind === "failed") this.#emitError(id, outcome.error);
          settle();
        }).catch(() => undefined);
      };
      const cancel = () => {
        if (abort.signal.aborted) return;
        abort.abort();
        // A running upload sees the signal and deletes its pending upload; a paused one has no
        // run to see it, so it is deleted here (its resume entry then finds nothing and is dropped).
        if (!running && pausedId !== undefined) this.#client.delete(pausedId).catch(() => undefined);
        settle();
      };
      this.#active.set(id, cancel);
      events.onFileRemove(id, cancel);
      events.onCancelAll(id, cancel);
      events.onPause(id, (isPaused) => (isPaused ? pause?.abort() : start()));
      events.onPauseAll(id, () => pause?.abort());
      events.onResumeAll(id, start);
      if (this.uppy.getFile(id)?.isPaused !== true) start();
    });
  }

  async #attempt(id: string, signal: AbortSignal, pause: AbortSignal): Promise<Outcome> {
    const file = this.uppy.getFile(id);
    try {
      if (file === undefined) return { kind: "aborted" };
      if (file.isRemote || file.data === undefined) {
        throw new StowageClientError("configuration", "NO_FILE_DATA", "This file's bytes are not in the browser (a remote or restored file): add it again.");
      }
      const ownerType = typeof this.opts.ownerType === "function" ? this.opts.ownerType(file) : this.opts.ownerType;
      const ownerId = typeof this.opts.ownerId === "function" ? this.opts.ownerId(file) : this.opts.ownerId;
      const lastModified = file.stowage?.lastModified ?? (file.data as Partial<File>).lastModified ?? 0;
      this.#patch(id, { ownerType, ...(ownerId === undefined ? {} : { ownerId }), lastModified, status: "uploading" });
      // The SDK fingerprints the file by these for resuming; Uppy's name and a kept lastModified
      // stay the same when Golden Retriever hands back the bytes after a reload.
      const source = { ...blobSource(file.data), name: file.name, lastModified };
      const result = await this.#client.upload(source, {
        ownerType,
        ...(ownerId === undefined ? {} : { ownerId }),
        filename: typeof file.meta.name === "string" ? file.meta.name : file.name,
        ...(file.type === "" ? {} : { contentType: file.type }),
        signal,
        pause,
        onProgress: (progress) => {
          const current = this.uppy.getFile(id);
          if (current === undefined || signal.aborted || pause.aborted) return;
          this.uppy.emit("upload-progress", current, {
            uploadStarted: current.progress.uploadStarted ?? Date.now(),
            bytesUploaded: progress.loaded,
            bytesTotal: progress.total,
          });
        },
        onRetry: (retry) => {
          this.#patch(id, { retry });
          const current = this.uppy.getFile(id);
          // Uppy 6 emits `upload-retry` itself only for `retryUpload(id)`; an SDK transfer retry
          // is told the same way (the file's `stowage.retry` says which), for a "retrying…" hint.
          if (current !== undefined) this.uppy.emit("upload-retry", current);
        },
      });
      return { kind: "done", result };
    } catch (error) {
      if (signal.aborted) return { kind: "aborted" };
      if (pause.aborted) {
        const uploadId = isStowageClientError(error) ? error.uploadId : undefined;
        this.#patch(id, { status: "paused", ...(uploadId === undefined ? {} : { uploadId }) });
        return { kind: "paused", uploadId };
      }
      return { kind: "failed", error: toClientError(error) };
    }
  }

  #emitSuccess(id: string, result: UploadResult): void {
    const file = this.uppy.getFile(id);
    if (file === undefined) return;
    const { retry: _retry, error: _error, ...kept } = this.#state(id) ?? { ownerType: result.ownerType, lastModified: 0 };
    this.uppy.setFileState(id, { stowage: { ...kept, status: "confirmed", uploadId: result.id } });
    this.uppy.emit("upload-success", this.uppy.getFile(id), {
      status: 200,
      body: result as StowageBody as unknown as B,
      ...("url" in result ? { uploadURL: result.url } : {}),
    });
  }

  /**
   * Uppy shows `error.message` to the person (and appends `error.details` if it is set, as text):
   * so the emitted error is a StowageClientError with a sentence for people and no `details`;
   * the original, with the server's figures, is its `cause` and `file.stowage.error`.
   */
  #emitError(id: string, error: StowageClientError): void {
    const file = this.uppy.getFile(id);
    if (file === undefined) return;
    this.#patch(id, {
      status: "failed",
      error: {
        kind: error.kind,
        code: error.code,
        ...(error.status === undefined ? {} : { status: error.status }),
        ...(error.details === undefined ? {} : { details: error.details }),
      },
    });
    // Its `details` is undefined, which Uppy's type (`details?: string`) does not say in these words.
    const shown: Omit<StowageClientError, "details"> = new StowageClientError(error.kind, error.code, describeUploadError(error), {
      status: error.status,
      cause: error,
    });
    const body = { code: error.code, details: error.details } as unknown as B;
    const response = error.status === undefined ? undefined : { status: error.status, body };
    this.uppy.emit("upload-error", this.uppy.getFile(id), shown, response);
  }

  #state(id: string): StowageFileState | undefined {
    return this.uppy.getFile(id)?.stowage;
  }

  #patch(id: string, patch: Partial<StowageFileState>): void {
    const file = this.uppy.getFile(id);
    if (file === undefined) return;
    const state = { ownerType: "", lastModified: 0, status: "uploading" as const, ...file.stowage, ...patch };
    this.uppy.setFileState(id, { stowage: state });
  }
}

function toClientError(error: unknown): StowageClientError {
  if (isStowageClientError(error)) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new StowageClientError("network", "UPLOAD_FAILED", `The upload failed: ${message}`, { cause: error });
}

export { describeUploadError } from "./messages.js";
export { isStowageClientError, StowageClientError } from "./errors.js";

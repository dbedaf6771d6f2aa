import { isStowageClientError, type Stowage, type UploadProgress, type UploadResult } from "./api.js";
import { describeRetry } from "./messages.js";

/** Where a file goes: its owner type, and the record it belongs to when the type needs one. */
export interface Target {
  ownerType: string;
  ownerId?: string | undefined;
}

/**
 * One file's upload as the page shows it. `running` covers everything from the policy check to
 * confirm (`loaded` 0 while the SDK hashes and presigns); `paused` keeps what storage holds;
 * `done`, `failed` and `cancelled` are final (a failed one may be tried again).
 */
export type Phase = "running" | "paused" | "done" | "failed" | "cancelled";

export interface TransferState {
  phase: Phase;
  loaded: number;
  total: number;
  /** Set while the SDK tries a transfer again (`onRetry`); cleared once that transfer moves. */
  retrying: string | undefined;
  /** Tries again so far, all runs together. */
  retries: number;
  /** Whether stored parts of an earlier run were reused (a resume). */
  resumed: boolean;
  result: UploadResult | undefined;
  error: unknown;
}

export interface TransferOptions {
  client: Stowage;
  file: File;
  target: Target;
  /** Whether the file goes in parts (the policy's threshold): only those keep anything when paused. */
  multipart: boolean;
  onChange(state: TransferState): void;
  /** Bytes started to move in this run: the server has accepted the upload and holds its size against the quota. */
  onUnderway(): void;
  /** The upload stopped (any phase but `running`): quota and list may have changed. */
  onSettled(state: TransferState): void;
}

/**
 * Runs `client.upload` for one file and turns its callbacks into states for the view. Pause and
 * cancel are the SDK's two signals: `pause` keeps the stored parts (running again resumes from
 * the server's list of them), `signal` deletes the pending upload.
 */
export class Transfer {
  readonly file: File;
  readonly target: Target;
  /** Whether it goes in parts: only then does a pause keep anything to resume from. */
  readonly multipart: boolean;
  #options: TransferOptions;
  #state: TransferState;
  #abort: AbortController | undefined;
  #pause: AbortController | undefined;
  /** The pending upload a pause left behind, for a cancel while paused. */
  #pausedUploadId: string | undefined;

  constructor(options: TransferOptions) {
    this.file = options.file;
    this.target = options.target;
    this.multipart = options.multipart;
    this.#options = options;
    this.#state = {
      phase: "running", loaded: 0, total: options.file.size, retrying: undefined, retries: 0, resumed: false, result: undefined, error: undefined,
    };
  }

  get state(): TransferState {
    return this.#state;
  }

  start(): void {
    void this.#run();
  }

  pause(): void {
    this.#pause?.abort(new Error("paused"));
  }

  resume(): void {
    if (this.#state.phase === "paused" || this.#state.phase === "failed") void this.#run();
  }

  cancel(): void {
    if (this.#state.phase === "running") {
      this.#abort?.abort(new Error("cancelled"));
      return;
    }
    if (this.#state.phase === "paused") {
      const id = this.#pausedUploadId;
      this.#pausedUploadId = undefined;
      this.#set({ phase: "cancelled", retrying: undefined });
      // Nothing runs: delete the pending upload here (it aborts a multipart upload and its parts).
      const deleted = id === undefined ? Promise.resolve() : this.#options.client.delete(id).catch(() => undefined);
      void deleted.then(() => this.#options.onSettled(this.#state));
    }
  }

  #set(change: Partial<TransferState>): void {
    this.#state = { ...this.#state, ...change };
    this.#options.onChange(this.#state);
  }

  async #run(): Promise<void> {
    const abort = new AbortController();
    const pause = new AbortController();
    this.#abort = abort;
    this.#pause = pause;
    this.#set({ phase: "running", loaded: 0, retrying: undefined, error: undefined });
    let retryingPart: number | undefined;
    let underway = false;
    const onProgress = (progress: UploadProgress) => {
      if (!underway && progress.loaded > 0) {
        underway = true;
        this.#options.onUnderway();
      }
      // A transfer being retried has moved again: the trouble is over.
      const moved = this.#state.retrying !== undefined
        && progress.part?.partNumber === retryingPart
        && (progress.part?.loaded ?? progress.loaded) > 0;
      this.#set({ loaded: progress.loaded, total: progress.total, ...(moved ? { retrying: undefined } : {}) });
    };
    try {
      const result = await this.#options.client.upload(this.file, {
        ownerType: this.target.ownerType,
        ...(this.target.ownerId === undefined ? {} : { ownerId: this.target.ownerId }),
        signal: abort.signal,
        pause: pause.signal,
        onProgress,
        onRetry: (info) => {
          retryingPart = info.partNumber;
          this.#set({ retrying: describeRetry(info), retries: this.#state.retries + 1 });
        },
      });
      this.#set({ phase: "done", loaded: this.file.size, retrying: undefined, resumed: this.#state.resumed || result.resumed, result });
    } catch (error) {
      const code = isStowageClientError(error) ? error.code : undefined;
      const uploadId = isStowageClientError(error) ? error.uploadId : undefined;
      if (code === "PAUSED") {
        this.#pausedUploadId = uploadId;
        // A single PUT keeps nothing to resume from (its next run presigns afresh): let its
        // pending upload go now rather than hold quota until its URL expires.
        if (!this.#options.multipart && this.#pausedUploadId !== undefined) {
          await this.#options.client.delete(this.#pausedUploadId).catch(() => undefined);
          this.#pausedUploadId = undefined;
        }
        this.#set({ phase: "paused", retrying: undefined });
      } else if (code === "ABORTED") {
        this.#set({ phase: "cancelled", retrying: undefined });
      } else {
        this.#set({ phase: "failed", retrying: undefined, error });
      }
    }
    this.#options.onSettled(this.#state);
  }
}

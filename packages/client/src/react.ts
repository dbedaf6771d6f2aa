/**
 * `@stowage/client/react`: one upload at a time as React state.
 *
 * @example
 * const client = useMemo(() => createClient({ baseUrl, getToken }), [baseUrl]);
 * const { upload, progress, status, error, pause, resume, abort } = useUpload(client, { ownerType: "avatar" });
 * <input type="file" onChange={(e) => e.target.files?.[0] && upload(e.target.files[0]).then(save, () => {})} />
 * {status === "uploading" && <progress value={progress.fraction} />}
 * {error && <p role="alert">{describeUploadError(error)}</p>}
 */
import { useCallback, useEffect, useRef, useState } from "react";
import type { StowageClient } from "./client.js";
import { isStowageClientError, StowageClientError } from "./errors.js";
import type { UploadOptions, UploadResult } from "./upload.js";

export type UploadStatus = "idle" | "uploading" | "paused" | "done" | "error";

export interface UploadState {
  progress: { loaded: number; total: number; fraction: number };
  status: UploadStatus;
  error: StowageClientError | undefined;
  result: UploadResult | undefined;
}

/** What `upload` takes beyond the hook's defaults; `pause` is the hook's own. */
export type HookUploadOptions = Partial<Omit<UploadOptions, "pause">>;

export interface UseUpload<Input> extends UploadState {
  /**
   * Uploads one file, replacing (aborting) any upload this hook still runs. Resolves with the
   * confirmed upload; stays pending while paused; rejects with a StowageClientError (`ABORTED`
   * after `abort()`).
   */
  upload(input: Input, options?: HookUploadOptions): Promise<UploadResult>;
  /** Stops the upload and deletes its pending upload on the server; the state goes back to idle. */
  abort(): void;
  /** Stops the transfers, keeping the parts stored so far. */
  pause(): void;
  /** Goes on from the stored parts (multipart) or from the start (a single PUT). */
  resume(): void;
}

interface Run<Input> {
  input: Input;
  options: UploadOptions;
  abort: AbortController;
  /** The current attempt's pause; aborted while paused. */
  pause: AbortController;
  running: boolean;
  done: boolean;
  /** The pending upload a paused run keeps on the server. */
  uploadId: string | undefined;
  /** The latest attempt, which a resume waits for. */
  last: Promise<void>;
  resolve(result: UploadResult): void;
  reject(error: StowageClientError): void;
}

const IDLE: UploadState = { progress: { loaded: 0, total: 0, fraction: 0 }, status: "idle", error: undefined, result: undefined };

/**
 * An upload's progress, status, error and result as state, with `abort`, `pause` and `resume`.
 * The upload is aborted when the component unmounts; under StrictMode's extra unmount and
 * remount, an upload started in an effect is aborted (its pending upload deleted) and the
 * remounted effect's upload is the one that runs.
 */
export function useUpload<Input>(client: StowageClient<Input>, defaults: HookUploadOptions = {}): UseUpload<Input> {
  const [state, setState] = useState<UploadState>(IDLE);
  // The latest arguments, read when an upload starts, so the callbacks below never change.
  const latest = useRef({ client, defaults });
  latest.current = { client, defaults };
  const current = useRef<Run<Input> | undefined>(undefined);

  /** Only the hook's current run writes state: a replaced or aborted one is ignored. */
  const update = useCallback((run: Run<Input>, next: Partial<UploadState>) => {
    if (current.current === run) setState((previous) => ({ ...previous, ...next }));
  }, []);

  const stop = useCallback((run: Run<Input>) => {
    if (run.done) return;
    run.abort.abort();
    // A running attempt sees the signal, deletes its pending upload and rejects; a paused run
    // has none running, so it is settled here.
    if (run.running) return;
    run.done = true;
    if (run.uploadId !== undefined) latest.current.client.delete(run.uploadId).catch(() => undefined);
    update(run, IDLE);
    run.reject(new StowageClientError("aborted", "ABORTED", "The upload was aborted."));
  }, [update]);

  const attempt = useCallback((run: Run<Input>) => {
    const pause = new AbortController();
    run.pause = pause;
    run.last = run.last.then(async () => {
      if (run.done || run.abort.signal.aborted || pause.signal.aborted) return;
      run.running = true;
      try {
        const result = await latest.current.client.upload(run.input, {
          ...run.options,
          signal: run.abort.signal,
          pause: pause.signal,
          onProgress: (p) => {
            const fraction = p.total > 0 ? p.loaded / p.total : 1;
            if (!pause.signal.aborted) update(run, { progress: { loaded: p.loaded, total: p.total, fraction } });
            run.options.onProgress?.(p);
          },
        });
        run.done = true;
        update(run, { status: "done", result, error: undefined });
        run.resolve(result);
      } catch (caught) {
        const error = isStowageClientError(caught)
          ? caught
          : new StowageClientError("network", "UPLOAD_FAILED", String(caught), { cause: caught });
        if (!run.abort.signal.aborted && pause.signal.aborted) {
          // Paused: the promise waits for resume() or abort().
          if (error.uploadId !== undefined) run.uploadId = error.uploadId;
          return;
        }
        run.done = true;
        update(run, run.abort.signal.aborted ? IDLE : { status: "error", error });
        run.reject(error);
      } finally {
        run.running = false;
      }
    });
  }, [update]);

  const upload = useCallback((input: Input, options: HookUploadOptions = {}): Promise<UploadResult> => {
    if (current.current !== undefined) stop(current.current);
    const { ownerType, ...rest } = { ...latest.current.defaults, ...options };
    if (ownerType === undefined) {
      return Promise.reject(new StowageClientError("configuration", "OWNER_TYPE_REQUIRED", "useUpload: give ownerType in its defaults or to upload()."));
    }
    return new Promise<UploadResult>((resolve, reject) => {
      const run: Run<Input> = {
        input,
        options: { ...rest, ownerType },
        abort: new AbortController(),
        pause: new AbortController(),
        running: false,
        done: false,
        uploadId: undefined,
        last: Promise.resolve(),
        resolve,
        reject,
      };
      current.current = run;
      rest.signal?.addEventListener("abort", () => stop(run), { once: true });
      setState({ ...IDLE, status: "uploading" });
      if (rest.signal?.aborted) stop(run);
      else attempt(run);
    });
  }, [attempt, stop]);

  const abort = useCallback(() => {
    if (current.current !== undefined) stop(current.current);
  }, [stop]);

  const pause = useCallback(() => {
    const run = current.current;
    if (run === undefined || run.done || run.pause.signal.aborted) return;
    run.pause.abort();
    update(run, { status: "paused" });
  }, [update]);

  const resume = useCallback(() => {
    const run = current.current;
    if (run === undefined || run.done || !run.pause.signal.aborted) return;
    update(run, { status: "uploading" });
    attempt(run);
  }, [attempt, update]);

  // Unmounting aborts. The setup does nothing, so StrictMode's extra cycle on mount is harmless.
  useEffect(() => () => abort(), [abort]);

  return { ...state, upload, abort, pause, resume };
}

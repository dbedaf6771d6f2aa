import type { Api } from "./api.js";
import type { ConfirmAnswer, PolicyView, PresignAnswer, SignPartsAnswer, UploadPartsAnswer } from "./contract.js";
import { isStowageClientError, StowageClientError } from "./errors.js";
import { type Md5, md5Hex } from "./md5.js";
import { putWithRetry } from "./put.js";
import { checkAgainstPolicy } from "./policy-check.js";
import { fingerprint, type ResumeEntry, type ResumeStore } from "./resume.js";
import type { RetryOptions, RetrySettings } from "./retry.js";
import { anySignal } from "./signals.js";
import type { UploadSource } from "./source.js";
import type { Transport } from "./transport.js";

export interface UploadProgress {
  /** Bytes sent so far, over all parts (a part being retried counts from 0 again). */
  loaded: number;
  total: number;
  /** The part this event is about, for multipart uploads. */
  part?: { partNumber: number; loaded: number; total: number };
}

export interface UploadOptions {
  ownerType: string;
  ownerId?: string;
  /** Kept by the server in its database only (default: the file's name). */
  filename?: string;
  /** Default: the file's type, else `application/octet-stream`. The server checks the bytes. */
  contentType?: string;
  /** Aborts the upload: transfers stop and the pending upload is deleted. */
  signal?: AbortSignal;
  /** Pauses it: transfers stop, what was stored stays, and `upload` of the same file resumes. */
  pause?: AbortSignal;
  onProgress?: (progress: UploadProgress) => void;
  /** A transfer is being tried again (for a UI's "retrying…"). */
  onRetry?: (info: { attempt: number; reason: string; partNumber?: number }) => void;
  /** Send each body's MD5 so the store refuses corrupted bytes (default on). */
  integrity?: boolean;
  /** Parts sent at once (default 4). */
  concurrency?: number;
  /** This upload's retries (default: the client's). */
  retry?: RetryOptions;
}

/**
 * The confirmed upload: its id, where it is served, and what the server verified. For owner
 * types the server scans, `status` is `scanning` and there is no `url` yet: the upload becomes
 * `confirmed` (or `infected`) once scanned; `client.get(id)` tells.
 */
export type UploadResult = ConfirmAnswer & UploadFacts;

interface UploadFacts {
  key: string;
  ownerType: string;
  filename: string;
  /**
   * Whether this went on with an earlier, interrupted upload of the same file (its pending upload
   * on the server, which it completed) rather than starting a new one. Which of its stored parts
   * could be kept is the server's list of parts against this file's bytes: possibly none.
   */
  resumed: boolean;
}

export interface UploadContext {
  api: Api;
  transport: Transport;
  md5: Md5;
  resume: ResumeStore;
  retry: RetrySettings;
  concurrency: number;
  policy(ownerType: string): Promise<PolicyView | undefined>;
}

/** presign → PUT (one, or parts in parallel) → complete → confirm. */
export async function runUpload(ctx: UploadContext, source: UploadSource, options: UploadOptions): Promise<UploadResult> {
  const contentType = options.contentType ?? source.type ?? "application/octet-stream";
  const filename = options.filename ?? source.name ?? "upload";
  const integrity = options.integrity ?? true;
  const policy = await ctx.policy(options.ownerType);
  checkAgainstPolicy(policy, source.size, contentType, options.ownerId);
  const threshold = policy?.multipartThresholdBytes ?? null;
  const resumeKey = fingerprint({
    baseUrl: ctx.api.baseUrl,
    ownerType: options.ownerType,
    ownerId: options.ownerId,
    name: source.name,
    size: source.size,
    lastModified: source.lastModified,
    contentType,
  });
  // One signal for every transfer: the caller's abort, its pause, or a part that failed for good.
  const failed = new AbortController();
  const signal = anySignal([options.signal, options.pause, failed.signal]);
  const report = (loaded: number, part?: UploadProgress["part"]) =>
    options.onProgress?.({ loaded, total: source.size, ...(part === undefined ? {} : { part }) });
  report(0);

  let uploadId: string | undefined;
  let resumed = false;
  // What a failure leaves: a single PUT that failed cannot be resumed, so its pending upload is
  // deleted (its reservation released); once confirm was asked, it may have been confirmed.
  let singlePut = false;
  let confirming = false;
  /** While parts go to the store: a refusal then leaves the upload pending on the server. */
  let sendingParts = false;
  try {
    const request = {
      ownerType: options.ownerType,
      filename,
      contentType,
      size: source.size,
      ...(options.ownerId === undefined ? {} : { ownerId: options.ownerId }),
    };
    let key: string;
    const goesMultipart = threshold !== null && source.size >= threshold;
    const stored = goesMultipart ? await resumable(ctx, resumeKey, source.size) : undefined;
    if (stored !== undefined) {
      uploadId = stored.entry.uploadId;
      sendingParts = true;
      key = await uploadParts(ctx, source, {
        uploadId, partSize: stored.list.partSize, partCount: stored.list.partCount, first: new Map(), stored: stored.list.parts,
        integrity, resumeKey, signal, failed, options, report,
      });
      resumed = true;
    } else {
      // A whole-file MD5 only where the file goes in one PUT (parts carry their own).
      const single = !goesMultipart;
      const wholeRange = single ? await source.range(0, source.size) : undefined;
      const contentMd5 = integrity && wholeRange !== undefined ? await ctx.md5(wholeRange) : undefined;
      const answer = await ctx.api.call<PresignAnswer>("POST", "/v1/uploads", {
        body: { ...request, ...(contentMd5 === undefined ? {} : { contentMd5 }) },
        signal,
      });
      uploadId = answer.id;
      key = answer.key;
      if (answer.kind === "multipart") {
        const { partSize, partCount } = answer.multipart;
        await ctx.resume.set(resumeKey, { uploadId, partSize, partCount, etags: {}, savedAt: Date.now() });
        sendingParts = true;
        await uploadParts(ctx, source, {
          uploadId, partSize, partCount, first: new Map(answer.multipart.parts.map((part) => [part.partNumber, part])), stored: [],
          integrity, resumeKey, signal, failed, options, report,
        });
      } else if (answer.kind === "put") {
        singlePut = true;
        const body = wholeRange ?? (await source.range(0, source.size));
        await putWithRetry({
          transport: ctx.transport,
          sign: () => Promise.resolve(answer),
          canResign: false,
          body,
          signal,
          retry: ctx.retry,
          onProgress: (loaded) => report(loaded),
          what: "the file",
          onRetry: (attempt, reason) => options.onRetry?.({ attempt, reason }),
        });
      } else {
        const message = `The server answered a '${answer.kind}' upload, which this client does not send.`;
        throw new StowageClientError("configuration", "UNSUPPORTED_UPLOAD_KIND", message);
      }
    }
    sendingParts = false;
    report(source.size);
    confirming = true;
    const confirmed = await ctx.api.call<ConfirmAnswer>("POST", `/v1/uploads/${uploadId}/confirm`, { signal });
    await ctx.resume.delete(resumeKey);
    return { ...confirmed, key, ownerType: options.ownerType, filename, resumed };
  } catch (error) {
    if (options.signal?.aborted) {
      // Aborted: nothing is left behind (a multipart upload is aborted with it).
      if (uploadId !== undefined) await ctx.api.call("DELETE", `/v1/uploads/${uploadId}`).catch(() => undefined);
      await ctx.resume.delete(resumeKey);
      throw new StowageClientError("aborted", "ABORTED", "The upload was aborted.", { cause: options.signal.reason, uploadId });
    }
    if (options.pause?.aborted) {
      const message = "The upload was paused; upload the same file again to resume.";
      throw new StowageClientError("aborted", "PAUSED", message, { cause: options.pause.reason, uploadId });
    }
    if (singlePut && !confirming && uploadId !== undefined) await ctx.api.call("DELETE", `/v1/uploads/${uploadId}`).catch(() => undefined);
    // A refusal by the API settles the upload (rejected, gone): a later try must start afresh. A
    // part the store refused (a body corrupted on the way, a URL it would not take) leaves the
    // upload pending with its other parts stored and its size reserved: the entry stays, so the
    // same file again resumes it rather than reserving its size a second time. (Were it settled
    // after all, the resume finds out from the server's list of parts and starts afresh.)
    if (isStowageClientError(error) && error.kind === "refused" && !sendingParts) await ctx.resume.delete(resumeKey);
    throw isStowageClientError(error) ? error.forUpload(uploadId) : error;
  } finally {
    failed.abort();
  }
}

/** A stored multipart upload of this file that the server still has, with the parts it holds. */
async function resumable(
  ctx: UploadContext,
  key: string,
  size: number,
): Promise<{ entry: ResumeEntry; list: UploadPartsAnswer } | undefined> {
  const entry = await ctx.resume.get(key);
  if (entry === undefined) return undefined;
  try {
    const list = await ctx.api.call<UploadPartsAnswer>("GET", `/v1/uploads/${entry.uploadId}/parts`);
    if (list.partCount === Math.ceil(size / list.partSize)) return { entry, list };
  } catch (error) {
    // Gone, confirmed, expired or never this user's: start afresh. Anything else is a real failure.
    if (!isStowageClientError(error) || error.kind !== "refused") throw error;
  }
  await ctx.resume.delete(key);
  return undefined;
}

interface PartsJob {
  uploadId: string;
  partSize: number;
  partCount: number;
  /** Part URLs handed out with the presign (used when no MD5 must be signed into them). */
  first: Map<number, { url: string; headers: Record<string, string> }>;
  /** Parts the store already holds (resuming). */
  stored: readonly { partNumber: number; etag: string; size: number }[];
  integrity: boolean;
  resumeKey: string;
  signal: AbortSignal;
  failed: AbortController;
  options: UploadOptions;
  report(loaded: number, part?: UploadProgress["part"]): void;
}

/** Sends the parts the store lacks, `concurrency` at a time, each retried on its own; then completes. */
async function uploadParts(ctx: UploadContext, source: UploadSource, job: PartsJob): Promise<string> {
  const { uploadId, partSize, partCount } = job;
  const sizeOf = (n: number) => Math.min(partSize, source.size - (n - 1) * partSize);
  const storedParts = new Map(job.stored.filter((p) => p.size === sizeOf(p.partNumber)).map((p) => [p.partNumber, p.etag]));
  const etags = new Map<number, string>();
  const loaded = new Map<number, number>();
  const total = () => [...loaded.values()].reduce((sum, n) => sum + n, 0);
  const queue = Array.from({ length: partCount }, (_, i) => i + 1);

  const sendPart = async (n: number) => {
    const start = (n - 1) * partSize;
    const range = await source.range(start, start + sizeOf(n));
    const contentMd5 = job.integrity ? await ctx.md5(range) : undefined;
    const kept = storedParts.get(n);
    // A stored part is reused when it is this file's bytes: its ETag is their MD5 (S3 and the
    // local store), checked where the client hashes; otherwise its size is all there is.
    const sameBytes = (etag: string) => contentMd5 === undefined || !/^"?[0-9a-f]{32}"?$/.test(etag) || etag.replaceAll("\"", "") === md5Hex(contentMd5);
    if (kept !== undefined && sameBytes(kept)) {
      etags.set(n, kept);
      loaded.set(n, range.size);
      job.report(total(), { partNumber: n, loaded: range.size, total: range.size });
      return;
    }
    const sign = async (again: boolean) => {
      const first = job.first.get(n);
      if (!again && contentMd5 === undefined && first !== undefined) return first;
      const answer = await ctx.api.call<SignPartsAnswer>("POST", `/v1/uploads/${uploadId}/parts`, {
        body: { partNumbers: [n], ...(contentMd5 === undefined ? {} : { contentMd5s: [contentMd5] }) },
        signal: job.signal,
      });
      const part = answer.parts[0];
      if (part === undefined) throw new StowageClientError("network", "NO_PART_URL", `The server signed no URL for part ${n}.`);
      return part;
    };
    const response = await putWithRetry({
      transport: ctx.transport,
      sign,
      canResign: true,
      body: range,
      signal: job.signal,
      retry: ctx.retry,
      onProgress: (bytes) => {
        loaded.set(n, bytes);
        job.report(total(), { partNumber: n, loaded: bytes, total: range.size });
      },
      what: `part ${n}`,
      onRetry: (attempt, reason) => job.options.onRetry?.({ attempt, reason, partNumber: n }),
    });
    const etag = response.header("etag");
    if (etag === null || etag === "") {
      throw new StowageClientError(
        "configuration",
        "ETAG_NOT_EXPOSED",
        "The store accepted a part but did not let this page read its ETag, which completing the upload needs. " +
        "The bucket's CORS rules must expose the ETag header: run `stowage storage cors --origin <this site's origin>`.",
      );
    }
    etags.set(n, etag);
    const entry = await ctx.resume.get(job.resumeKey);
    if (entry !== undefined) await ctx.resume.set(job.resumeKey, { ...entry, etags: { ...entry.etags, [n]: etag } });
  };

  const worker = async () => {
    for (let n = queue.shift(); n !== undefined; n = queue.shift()) {
      await sendPart(n);
    }
  };
  const workers = Array.from({ length: Math.max(1, Math.min(job.options.concurrency ?? ctx.concurrency, partCount)) }, () =>
    worker().catch((error: unknown) => {
      // One part failed for good: stop the others' transfers, and report this failure.
      job.failed.abort(error);
      throw error;
    }),
  );
  const results = await Promise.allSettled(workers);
  const failure = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
  if (failure !== undefined) throw firstCause(failure.reason, job.failed.signal.reason);
  const parts = [...etags].sort(([a], [b]) => a - b).map(([partNumber, etag]) => ({ partNumber, etag }));
  const completed = await ctx.api.call<{ key?: string }>("POST", `/v1/uploads/${uploadId}/complete`, { body: { parts }, signal: job.signal });
  return completed?.key ?? "";
}

/** The error that stopped the upload, rather than the abort it caused in the other parts. */
function firstCause(reason: unknown, first: unknown): unknown {
  return first ?? reason;
}

import { StowageError } from "../errors.js";
import type { Policy } from "../policies/policy.js";
import type { SignedPart, SignPartsRequest, UploadPartsAnswer } from "../api/presign.js";
import type { CompletedPart, StorageDriver } from "../storage/driver.js";
import type { UploadRecord } from "./record.js";
import { partMd5s } from "./content-md5.js";
import { partLength, type PartPlan, planParts } from "./part-plan.js";
import { stagingOf } from "./staging.js";
import { isAwaitingUpload } from "./lifecycle.js";

/** Default size from which uploads go in parts. */
export const DEFAULT_MULTIPART_THRESHOLD = 100 * 1024 * 1024;
/** Part URLs handed out with the presign answer; the rest are signed on request. */
export const FIRST_BATCH = 20;
/** At most this many part URLs per request. */
export const MAX_BATCH = 100;

type MultipartDriver = Required<Pick<StorageDriver, "createMultipart" | "presignPart" | "completeMultipart" | "abortMultipart">>;

/**
 * Large uploads in presigned parts. Part URLs are signed lazily, a batch at a time and again
 * whenever one expires, so a long upload never dies on an expired URL; the part size is fixed
 * by the plan so the client only cuts the file.
 */
export class MultipartUploads {
  readonly #driver: StorageDriver;

  constructor(driver: StorageDriver) {
    this.#driver = driver;
  }

  /**
   * The part plan for an upload, or undefined when it goes in one PUT. On a store without
   * conditional writes every upload goes in parts, whatever its size: a single PUT URL could be
   * used again after confirm, while part URLs die with the completed multipart upload.
   */
  planFor(policy: Policy, size: number): PartPlan | undefined {
    const threshold = this.thresholdFor(policy);
    if (threshold === undefined || size < threshold) return undefined;
    return planParts(size);
  }

  /** The size from which uploads of this policy go in parts; undefined: never (no multipart here). */
  thresholdFor(policy: Policy): number | undefined {
    if (!this.#supported()) return undefined;
    return this.#driver.capabilities.has("conditional-write") ? (policy.multipartThresholdBytes ?? DEFAULT_MULTIPART_THRESHOLD) : 0;
  }

  start(ref: { bucket: string; key: string; contentType: string; cacheControl: string }): Promise<{ uploadId: string }> {
    return this.#required().createMultipart(ref);
  }

  /**
   * URLs for parts of the upload, each once; with `contentMd5s` (parallel to `partNumbers`),
   * each URL signs its part's `Content-MD5`, so the store refuses a corrupted part.
   */
  async signParts(upload: UploadRecord, request: SignPartsRequest, expiresInSeconds: number): Promise<SignedPart[]> {
    const multipart = this.#multipartOf(upload);
    const { partNumbers } = request;
    if (partNumbers.length > MAX_BATCH) {
      throw new StowageError("INVALID_REQUEST", `Ask for at most ${MAX_BATCH} parts at a time.`, { details: { field: "partNumbers" } });
    }
    const md5s = partMd5s(partNumbers, request.contentMd5s);
    const driver = this.#required();
    return Promise.all(
      [...md5s].map(async ([partNumber, contentMd5]) => {
        if (!Number.isInteger(partNumber) || partNumber < 1 || partNumber > multipart.partCount) {
          throw new StowageError("INVALID_REQUEST", `Part ${partNumber} is outside 1..${multipart.partCount}.`, {
            details: { field: "partNumbers" },
          });
        }
        const signed = await driver.presignPart({
          ...stagingOf(upload),
          uploadId: multipart.uploadId,
          partNumber,
          contentLength: partLength(upload.declaredSize, multipart, partNumber),
          expiresInSeconds,
          ...(contentMd5 === undefined ? {} : { contentMd5 }),
        });
        return { partNumber, url: signed.url, method: "PUT" as const, headers: signed.headers, expiresAt: signed.expiresAt.toISOString() };
      }),
    );
  }

  /** The parts the store holds so far, with the plan a client cuts the file by. */
  async listParts(upload: UploadRecord): Promise<UploadPartsAnswer> {
    const multipart = this.#multipartOf(upload);
    const driver = this.#driver;
    if (driver.listParts === undefined) throw new StowageError("INTERNAL", `The ${driver.name} driver cannot list parts.`);
    const stored = await driver.listParts({ ...stagingOf(upload), uploadId: multipart.uploadId });
    const parts = stored.filter((p) => p.partNumber <= multipart.partCount);
    return { partSize: multipart.partSize, partCount: multipart.partCount, parts };
  }

  /** Assembles the parts; completing an already completed upload is harmless. */
  async complete(upload: UploadRecord, parts: readonly CompletedPart[]): Promise<void> {
    const multipart = this.#multipartOf(upload);
    const numbers = parts.map((p) => p.partNumber);
    if (numbers.length !== multipart.partCount || numbers.some((n, i) => n !== i + 1)) {
      throw new StowageError("INVALID_REQUEST", `List all ${multipart.partCount} parts, in order, each once.`, {
        details: { field: "parts", partCount: multipart.partCount },
      });
    }
    const staging = stagingOf(upload);
    try {
      await this.#required().completeMultipart({ ...staging, uploadId: multipart.uploadId, parts });
    } catch (error) {
      // A retried complete finds its object already there (local) or the upload gone (S3).
      const code = (error as { code?: string }).code;
      if ((code === "OBJECT_EXISTS" || code === "UPLOAD_GONE") && (await this.#driver.stat(staging)) !== undefined) return;
      throw error;
    }
  }

  /** Drops an unfinished multipart upload's parts (best effort: the sweeper retries). */
  async abort(upload: UploadRecord): Promise<void> {
    if (upload.multipart === undefined || !this.#supported()) return;
    await this.#required().abortMultipart({ ...stagingOf(upload), uploadId: upload.multipart.uploadId });
  }

  #multipartOf(upload: UploadRecord): NonNullable<UploadRecord["multipart"]> {
    if (upload.multipart === undefined) {
      throw new StowageError("INVALID_REQUEST", "This upload is a single PUT, not a multipart upload.");
    }
    if (!isAwaitingUpload(upload.status)) {
      throw new StowageError("UPLOAD_NOT_PENDING", `This upload is ${upload.status}; its parts can no longer change.`);
    }
    return upload.multipart;
  }

  #supported(): boolean {
    const d = this.#driver;
    return d.capabilities.has("multipart") && !!d.createMultipart && !!d.presignPart && !!d.completeMultipart && !!d.abortMultipart;
  }

  #required(): MultipartDriver {
    if (!this.#supported()) throw new StowageError("INTERNAL", `The ${this.#driver.name} driver has no multipart support.`);
    return this.#driver as StorageDriver & MultipartDriver;
  }
}

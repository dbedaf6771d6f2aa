import { randomUUID } from "node:crypto";
import {
  type BucketLocationConstraint,
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  PutObjectCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import type { IoOptions } from "../driver.js";
import { describeS3Error } from "./describe-error.js";
import { isMissing } from "./errors.js";

export type InitStep = "bucket" | "write" | "read" | "delete";

export interface StepResult {
  step: InitStep;
  ok: boolean;
  /** For the bucket step: whether it was already there or has just been created. */
  outcome?: "exists" | "created";
  /** What failed, in words an operator can act on. */
  error?: string;
}

export interface BucketInit {
  bucket: string;
  ok: boolean;
  /** The steps that ran, in order; a failed step ends the list (later ones depend on it). */
  steps: StepResult[];
}

/**
 * Where probe objects go: a prefix of their own, so one left behind by a run killed between write
 * and delete is easy to recognise; the UUID keeps each clear of any real key.
 */
export const PROBE_PREFIX = ".stowage-probe/";

/**
 * Makes sure each bucket exists (creating missing ones), then proves these credentials can do
 * what Stowage needs at run time: write, read back and delete a small probe object. A start-up
 * HEAD only proves the bucket is visible; a read-only key or a bucket policy denying PUT would
 * otherwise surface only when the first user confirms an upload.
 */
export async function initBuckets(client: S3Client, buckets: readonly string[], options: IoOptions = {}): Promise<BucketInit[]> {
  const results: BucketInit[] = [];
  for (const bucket of buckets) results.push(await initBucket(client, bucket, options));
  return results;
}

async function initBucket(client: S3Client, bucket: string, options: IoOptions): Promise<BucketInit> {
  const io = options.signal === undefined ? {} : { abortSignal: options.signal };
  const steps: StepResult[] = [];
  const run = async <T>(step: InitStep, work: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await work();
    } catch (error) {
      options.signal?.throwIfAborted();
      steps.push({ step, ok: false, error: describeS3Error(error) });
      return undefined;
    }
  };

  const outcome = await run("bucket", async () => {
    try {
      await client.send(new HeadBucketCommand({ Bucket: bucket }), io);
      return "exists" as const;
    } catch (error) {
      if (!isMissing(error)) throw error;
    }
    await client.send(new CreateBucketCommand({ Bucket: bucket, ...(await locationOf(client)) }), io);
    return "created" as const;
  });
  if (outcome === undefined) return { bucket, ok: false, steps };
  steps.push({ step: "bucket", ok: true, outcome });

  const key = `${PROBE_PREFIX}${randomUUID()}`;
  const body = Buffer.from(`stowage storage init probe ${key}\n`);
  const wrote = await run("write", async () => {
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: "text/plain" }), io);
    return true;
  });
  if (wrote === undefined) return { bucket, ok: false, steps };
  steps.push({ step: "write", ok: true });

  const read = await run("read", async () => {
    const object = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }), io);
    const bytes = Buffer.from((await object.Body?.transformToByteArray()) ?? []);
    if (!bytes.equals(body)) throw new Error(`read back ${bytes.length} bytes that differ from the ${body.length} written`);
    return true;
  });
  if (read !== undefined) steps.push({ step: "read", ok: true });

  // Deleted even after a failed read, so a probe never stays behind when it can be helped.
  const deleted = await run("delete", async () => {
    await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }), io);
    // S3 answers 204 to a DeleteObject whatever happened (it never reports a missing key), so
    // only a 404 afterwards proves the delete took effect. (A versioned bucket keeps the probe
    // as a noncurrent version; a lifecycle rule on the prefix clears those.)
    try {
      await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }), io);
    } catch (error) {
      if (isMissing(error)) return true;
      throw error;
    }
    throw new Error(`the probe object ${key} is still there after DeleteObject`);
  });
  if (deleted !== undefined) steps.push({ step: "delete", ok: true });
  return { bucket, ok: steps.every((s) => s.ok) && steps.length === 4, steps };
}

/**
 * AWS wants the region named at creation anywhere but us-east-1 (where naming it is an error);
 * R2's `auto` is not a location. Other stores accept either.
 */
async function locationOf(client: S3Client): Promise<{ CreateBucketConfiguration?: { LocationConstraint: BucketLocationConstraint } }> {
  const region = await client.config.region();
  if (region === "us-east-1" || region === "auto") return {};
  // The SDK types list AWS's regions; other stores name theirs freely.
  return { CreateBucketConfiguration: { LocationConstraint: region as BucketLocationConstraint } };
}

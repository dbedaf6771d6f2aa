import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { ListMultipartUploadsCommand } from "@aws-sdk/client-s3";
import type { SweepEvent } from "../../src/sweeper/events.js";
import { type JobReport, sweep, type SweepOptions, type SweepReport, sweepSettings } from "../../src/sweeper/run.js";
import { DATABASES, type TestDatabase } from "./databases.js";
import { adminClient, stowageS3Env, tempBucket } from "./s3.js";
import { startStowage, type TestServer } from "./server.js";

export const MiB = 1024 * 1024;
export const HOUR = 3600 * 1000;
export const DAY = 24 * HOUR;
export const MP4_HEADER = Buffer.from("00000018667479706973736f0000020069736f6d69736f32", "hex");

/** A job's report without its time, which no test can predict: what it did. */
export function untimed(report: JobReport): Omit<JobReport, "durationMs"> {
  const { durationMs, ...rest } = report;
  assert.ok(Number.isFinite(durationMs) && durationMs >= 0, `durationMs: ${durationMs}`);
  return rest;
}

/** A time `ms` from now: the sweeper's injected clock, instead of waiting. */
export const later = (ms: number) => new Date(Date.now() + ms);

/**
 * Owner types with every sweeper rule: `story` expires a day after confirm, `draft` must be
 * attached within an hour, `video` goes multipart from 5 MiB, and `signed_pdf` (compliance,
 * seven years' retention) is given a one-day retention rule that its retention must beat.
 */
export function sweepConfigFile(overrides: Record<string, unknown> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), "stowage-sweep-config-"));
  // Servers read the file for as long as they run: it goes when the test process does.
  process.once("exit", () => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, "stowage.config.json");
  const png = { allowedTypes: ["image/png"], maxBytes: 1_000_000, urlTtlSeconds: 300 };
  writeFileSync(file, JSON.stringify({
    policies: {
      story: { ...png, keyTemplate: "stories/{userId}/{id}.{ext}", bucket: "public", visibility: "public", expireAfterDays: 1 },
      draft: { ...png, keyTemplate: "drafts/{userId}/{id}.{ext}", bucket: "private", visibility: "private", attachWithinSeconds: 3600 },
      video: {
        allowedTypes: ["video/mp4"], maxBytes: 100 * MiB, urlTtlSeconds: 300, multipartThresholdBytes: 5 * MiB,
        keyTemplate: "videos/{userId}/{id}.{ext}", bucket: "private", visibility: "private",
      },
      signed_pdf: { expireAfterDays: 1 },
      ...overrides,
    },
  }));
  return file;
}

export interface SweepBackend {
  name: string;
  database: TestDatabase;
  server: TestServer;
  /** The real bucket of each logical one (S3), for checks straight against the store. */
  s3?: { media: string; compliance: string };
  close(): Promise<void>;
}

/**
 * SQLite with local disk, and PostgreSQL with the real S3 server (Ceph RGW): the embedded
 * default and the production shape. Each call starts a fresh instance, so counts are exact.
 * `options.pageDir` serves the upload page from that build (`buildTestPage`).
 */
type MakeBackend = (env?: Record<string, string>, options?: { pageDir?: string }) => Promise<SweepBackend>;
export const SWEEP_BACKENDS: [string, MakeBackend][] = DATABASES.map(([dbName, makeDatabase]) => {
  const s3 = dbName === "PostgreSQL";
  const name = s3 ? "PostgreSQL + S3 (Ceph RGW)" : "SQLite + local disk";
  return [name, async (env: Record<string, string> = {}, options: { pageDir?: string } = {}) => {
    const database = await makeDatabase();
    const buckets = s3 ? await Promise.all([tempBucket("stowage-sweep"), tempBucket("stowage-sweep-c")]) : [];
    const [media, compliance] = buckets;
    const storageEnv = media !== undefined && compliance !== undefined ? stowageS3Env(media.name, compliance.name) : {};
    const server = await startStowage({ ...database.env, ...storageEnv, STOWAGE_CONFIG_FILE: sweepConfigFile(), ...env }, options);
    return {
      name,
      database,
      server,
      ...(media !== undefined && compliance !== undefined ? { s3: { media: media.name, compliance: compliance.name } } : {}),
      async close() {
        await server.close();
        await Promise.all([database.drop(), ...buckets.map((b) => b.drop())]);
      },
    };
  }];
});

/** One sweep against a running server's own store and storage, collecting every event. */
export async function runSweep(
  server: TestServer,
  options: Partial<Omit<SweepOptions, "onEvent">> & { now: Date },
): Promise<{ report: SweepReport; events: SweepEvent[] }> {
  const events: SweepEvent[] = [];
  const report = await sweep({
    ...sweepSettings(server.config),
    store: server.runtime.store.sweeper,
    driver: server.runtime.driver,
    onEvent: (event) => events.push(event),
    ...options,
  });
  return { report, events };
}

export async function objectExists(server: TestServer, bucket: string, key: string): Promise<boolean> {
  return (await server.runtime.driver.stat({ bucket, key })) !== undefined;
}

/** Writes an object straight into storage, bypassing Stowage's API (no row): an orphan. */
export async function putRaw(server: TestServer, bucket: string, key: string, body: Buffer): Promise<void> {
  await server.runtime.driver.put({ bucket, key, body: Readable.from([body]), contentType: "application/octet-stream", contentLength: body.length });
}

export async function statusOf(server: TestServer, user: string, id: string): Promise<{ status: string; rejection?: { code: string } }> {
  return (await server.api("GET", `/v1/uploads/${id}`, { as: user })).json();
}

export async function usedBytes(server: TestServer, user: string): Promise<number> {
  return (await server.api("GET", "/v1/quota", { as: user })).json().usedBytes;
}

/** Whether the store still holds the parts of a multipart upload. */
export async function multipartAlive(backend: SweepBackend, key: string, uploadId: string): Promise<boolean> {
  if (backend.s3 === undefined) return existsSync(join(backend.server.dataDir, "storage", "tmp", "multipart", uploadId));
  const listed = await adminClient().send(new ListMultipartUploadsCommand({ Bucket: backend.s3.media, Prefix: key }));
  return (listed.Uploads ?? []).some((u) => u.UploadId === uploadId);
}

/** The events of the given uploads/keys only, as comparable `job action key` strings. */
export function eventsFor(events: readonly SweepEvent[], keys: readonly string[]): string[] {
  const wanted = new Set(keys);
  return events.filter((e) => wanted.has(e.key)).map((e) => `${e.job} ${e.action} ${e.key}`).sort();
}

/**
 * Where a presign's time goes, stage by stage, in process (no HTTP): JWT verification, the quota
 * read, the row insert and the store's presign transaction alone, in fives and in fifties (SQLite and
 * PostgreSQL), SigV4 signing, and `UploadService.presign` whole.
 * µs per call, sequential (one call at a time, so the store's per-turn batching has nothing to
 * group: a lone read or insert waits for `setImmediate`); the diagnosis behind the presign
 * benchmark's figures.
 *
 *   npm run bench -- presign-stages
 */
import { mkdtempSync, openSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fastJson from "fast-json-stringify";
import pino from "pino";
import { jwtVerify } from "jose";
import { v7 as uuidv7 } from "uuid";
import { PresignAnswer } from "../src/api/presign.js";
import { createVerifier, mintToken } from "../src/auth/jwt.js";
import { createLogger } from "../src/logger.js";
import { BUILTIN_POLICIES } from "../src/policies/builtins.js";
import { S3Driver } from "../src/storage/s3/s3-driver.js";
import { openStore } from "../src/store/open.js";
import type { MetadataStore } from "../src/store/store.js";
import { UploadService } from "../src/uploads/service.js";
import { tempPostgres } from "./lib/databases.js";
import { main, output, progress } from "./lib/report.js";
import { RUNS, SECONDS } from "./lib/settings.js";
import { median } from "./lib/stats.js";
import { JWT_SECRET } from "./lib/stowage.js";
import { Metrics } from "../src/metrics/registry.js";
import { uploadMetrics } from "../src/metrics/upload-metrics.js";

const NAME = "presign-stages";
/** A timed case: its name, one call, and how many presigns a call makes (1 unless said). */
type Case = [string, () => Promise<unknown>, number?];
/** Presigns one event-loop turn brings under load (50 connections): what the store's batch sees. */
const BATCH = 50;

async function perCall(fn: () => Promise<unknown>, ms: number): Promise<number> {
  let count = 0;
  const start = performance.now();
  while (performance.now() - start < ms) {
    for (let i = 0; i < 20; i++) await fn();
    count += 20;
  }
  return ((performance.now() - start) * 1000) / count;
}

async function run() {
  const out = output(NAME);
  const dir = mkdtempSync(join(tmpdir(), "presign-stages-"));
  const pg = await tempPostgres();
  const stores: [string, MetadataStore][] = [
    ["SQLite", openStore({ kind: "sqlite", file: join(dir, "stowage.db") })],
    ["PostgreSQL", openStore({ kind: "postgres", url: pg.url })],
  ];
  try {
    const verify = createVerifier({ kind: "secret", secret: JWT_SECRET });
    const joseKey = new TextEncoder().encode(JWT_SECRET);
    const token = await mintToken({ secret: JWT_SECRET, subject: "user0001", expiresInSeconds: 3600 });
    const driver = new S3Driver({
      endpoint: "http://127.0.0.1:9000", region: "us-east-1", forcePathStyle: true, postPolicy: true, conditionalWrites: true,
      credentials: { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY" },
      buckets: { public: { name: "media", public: true }, private: { name: "media", public: false }, compliance: { name: "media", public: false } },
    });
    const input = { ownerType: "avatar", filename: "me.png", contentType: "image/png", size: 48213 };
    // What metrics add to one presign: the observer's counter and the HTTP hook's histogram
    // (with its child looked up once, as src/http/metrics.ts keeps it).
    const metrics = new Metrics({ ownerTypes: BUILTIN_POLICIES.map((p) => p.ownerType), defaultMetrics: false });
    const observer = uploadMetrics(metrics);
    const histogram = metrics.httpDuration.labels("POST", "/v1/uploads", "201");
    // Request logging at info (the default), written to /dev/null: what the line itself costs,
    // the per-request child logger included, against Fastify's own two lines a request.
    const log = createLogger("info", pino.destination({ fd: openSync("/dev/null", "w"), sync: true }));
    const req = { id: "req-1", method: "POST", url: "/v1/uploads" };
    const res = { statusCode: 201 };
    const cases: Case[] = [
      ["request log: one line a request (Stowage)", async () => {
        log.child({ reqId: req.id }).info({ req, res, responseTime: 1.23 }, "request completed");
      }],
      ["request log: Fastify's default, two lines a request", async () => {
        const child = log.child({ reqId: req.id });
        child.info({ req }, "incoming request");
        child.info({ res, responseTime: 1.23 }, "request completed");
      }],
      ["JWT verify (Stowage: fast-jwt, HS256, cached)", () => verify(token)],
      ["JWT verify (jose jwtVerify, HS256, for comparison)", () => jwtVerify(token, joseKey, { algorithms: ["HS256"] })],
      ["metrics of one presign (counter + histogram)", async () => {
        observer.presigned("avatar", "put", "ok");
        histogram.observe(0.0123);
      }],
      ["SigV4 presignPut (S3 driver)", () => driver.presignPut({ bucket: "public", key: `avatars/u/${uuidv7()}.png`, contentType: "image/png", contentLength: 48213, cacheControl: "public, max-age=86400", expiresInSeconds: 300 })],
    ];
    // The answer's serialization: Fastify compiles the route's response schema (here a union of
    // three kinds) with fast-json-stringify; without a schema it would call JSON.stringify.
    const answer = { kind: "put", id: uuidv7(), key: "avatars/u/x.png", ...(await driver.presignPut({ bucket: "public", key: "avatars/u/x.png", contentType: "image/png", contentLength: 48213, cacheControl: "public, max-age=86400", expiresInSeconds: 300 })) };
    const wire = { ...answer, expiresAt: answer.expiresAt.toISOString() };
    const serialize = fastJson(PresignAnswer as never);
    cases.push(
      ["presign answer: response schema (fast-json-stringify)", async () => serialize(wire)],
      ["presign answer: JSON.stringify (no schema)", async () => JSON.stringify(wire)],
    );
    for (const [label, store] of stores) {
      await store.migrate();
      const serviceOptions = {
        policies: new Map(BUILTIN_POLICIES.map((p) => [p.ownerType, p])),
        defaultQuotaBytes: 2 ** 50,
        defaultOrgQuotaBytes: 2 ** 50,
        downloadTtlSeconds: 300,
      };
      const service = new UploadService({ ...serviceOptions, store, driver });
      let n = 0;
      cases.push(
        [`quota read (${label})`, () => store.usage({ subject: `user:user${n++ % 200}`, defaultLimitBytes: 2 ** 50 })],
        [`row insert (${label})`, () => {
          const id = uuidv7();
          return store.insertUpload({
            id, userId: "user0001", orgId: undefined, ownerType: "avatar", ownerId: undefined, bucket: "public", key: `avatars/user0001/${id}.png`,
            filename: "me.png", contentType: "image/png", declaredSize: 48213, createdAt: new Date(), expiresAt: new Date(Date.now() + 300_000), multipart: undefined, staging: undefined, method: "put",
          });
        }],
        // One presign a transaction (requests arriving a turn apart, as at a paced half of peak),
        // five, and the BATCH one turn brings under full load.
        ...[1, 5, BATCH].map((size): Case => [
          size === 1 ? `store: one presign a transaction, alone (${label})` : `store: ${size} presigns in one turn (one transaction), per presign (${label})`,
          () => {
            const now = new Date();
            return Promise.all(Array.from({ length: size }, () => {
              const id = uuidv7();
              const userId = `user${n++ % 200}`;
              return store.createUpload({
                now,
                reserve: [{ subject: `user:${userId}`, defaultLimitBytes: 2 ** 50, maxPending: 1_000_000 }],
                upload: {
                  id, userId, orgId: undefined, ownerType: "avatar", ownerId: undefined, linkId: undefined, bucket: "public", key: `avatars/${userId}/${id}.png`,
                  filename: "me.png", contentType: "image/png", declaredSize: 48213, createdAt: now, expiresAt: new Date(now.getTime() + 300_000),
                  multipart: undefined, staging: { bucket: "public", key: `.staging/${id}` }, method: "put",
                },
              });
            }));
          },
          size,
        ]),
        [`UploadService.presign whole (${label})`, () => service.presign({ kind: "user", userId: `user${n++ % 200}`, roles: [] }, input)],
      );
      if (label === "SQLite") {
        const observed = new UploadService({ ...serviceOptions, store, driver, observe: observer });
        cases.push([`UploadService.presign whole, metrics observer (${label})`, () => observed.presign({ kind: "user", userId: `user${n++ % 200}`, roles: [] }, input)]);
      }
    }
    const perCaseMs = (SECONDS * 1000) / cases.length / RUNS;
    for (const [, fn] of cases) await perCall(fn, 100);
    const results: Record<string, number[]> = {};
    for (let round = 0; round < RUNS; round++) {
      for (const [name, fn, per = 1] of cases) (results[name] ??= []).push((await perCall(fn, perCaseMs)) / per);
    }
    for (const [name] of cases) {
      const us = median(results[name] ?? []);
      progress(NAME, `${name.padEnd(42)} ${us.toFixed(1).padStart(8)} µs`);
      out.rows.push({ benchmark: "presign stages (in process)", metric: name, unit: "µs", stowage: us });
    }
    out.notes.push(`presign-stages: in process, sequential awaited calls, ${RUNS} round(s), median; S3 driver signs only (no S3 call); PostgreSQL on 127.0.0.1`);
    out.raw = results;
  } finally {
    for (const [, store] of stores) await store.close();
    await pg.drop();
    rmSync(dir, { recursive: true, force: true });
  }
  return out;
}

await main(import.meta.url, run);

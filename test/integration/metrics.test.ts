import assert from "node:assert/strict";
import { mkdir, utimes, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { after, before, describe, it } from "node:test";
import { createLogger } from "../../src/logger.js";
import { sweepOnSchedule } from "../../src/sweeper/schedule.js";
import { tempPostgres } from "../helpers/databases.js";
import { PDF, PNG } from "../helpers/fixtures.js";
import { confirm, presign, presignAndPut } from "../helpers/flow.js";
import { putPresigned, rawRequest } from "../helpers/http.js";
import { sampleValue, scrape, type Sample } from "../helpers/metrics.js";
import { relay } from "../helpers/relay.js";
import { s3Env, stowageS3Env, tempBucket } from "../helpers/s3.js";
import { freePort, startStowage, type TestServer } from "../helpers/server.js";
import { graphql } from "../helpers/surfaces.js";

const TOKEN = "metrics-token-that-is-long-enough-0123456789";
const DURATION = "stowage_http_request_duration_seconds_count";

describe("metrics: what the upload flow counts (SQLite + local disk)", () => {
  let server: TestServer;
  let samples: Sample[];
  const keys: string[] = [];
  before(async () => {
    // A 1000-byte quota, so a 2000-byte presign is refused by the quota and not the policy.
    server = await startStowage({ STOWAGE_DEFAULT_QUOTA_BYTES: "1000" });

    const ok = await presignAndPut(server, "alice", PNG, { ownerType: "avatar", contentType: "image/png" });
    keys.push(ok.key);
    assert.equal((await confirm(server, "alice", ok.id)).status, 200);
    // Confirming again answers the same, and counts as a confirm, but charges nothing more.
    assert.equal((await confirm(server, "alice", ok.id)).status, 200);

    const notAllowed = await presign(server, "alice", { ownerType: "avatar", contentType: "application/pdf", size: 100 });
    assert.equal(notAllowed.status, 415);
    const unknown = await presign(server, "alice", { ownerType: "no_such_type_1", contentType: "image/png", size: 100 });
    assert.equal(unknown.status, 400);
    const overQuota = await presign(server, "alice", { ownerType: "document", contentType: "application/pdf", size: 2000 });
    assert.equal(overQuota.status, 413, overQuota.body.toString());

    // A text file presigned as a PNG: the upload goes through, confirm refuses it.
    const text = Buffer.from("this is not a png at all, only some text".padEnd(PNG.length, "."));
    const liar = await presignAndPut(server, "alice", text, { ownerType: "avatar", contentType: "image/png" });
    const refused = await confirm(server, "alice", liar.id);
    assert.equal(refused.status, 415);
    assert.equal(refused.json().error.code, "CONTENT_TYPE_MISMATCH");

    const missing = await confirm(server, "alice", "0190f5a0-0000-7000-8000-000000000000");
    assert.equal(missing.status, 404);

    assert.equal((await server.api("DELETE", `/v1/uploads/${ok.id}`, { as: "alice" })).status, 204);

    // Many object keys, one route: reads of served and unknown keys, and PUTs to signed URLs.
    for (const key of ["a/1.png", "b/2.png", "c/d/e/3.png", ok.key]) {
      await rawRequest(`${server.baseUrl}/storage/public/${key}`);
    }
    for (let i = 0; i < 3; i++) {
      const more = await presignAndPut(server, `bob${i}`, PNG, { ownerType: "avatar", contentType: "image/png" });
      keys.push(more.key);
    }
    assert.equal((await rawRequest(`${server.baseUrl}/no/such/path/${Date.now()}`)).status, 404);
    samples = await scrape(server.baseUrl);
  });
  after(async () => server.close());

  it("counts presigns by owner type, method and outcome; unknown owner types as `unknown`", () => {
    assert.equal(sampleValue(samples, "stowage_presign_total", { owner_type: "avatar", method: "put", outcome: "ok" }), 5);
    assert.equal(sampleValue(samples, "stowage_presign_total", { owner_type: "avatar", method: "put", outcome: "CONTENT_TYPE_NOT_ALLOWED" }), 1);
    assert.equal(sampleValue(samples, "stowage_presign_total", { owner_type: "unknown", method: "put", outcome: "UNKNOWN_OWNER_TYPE" }), 1);
    assert.equal(sampleValue(samples, "stowage_presign_total", { owner_type: "document", method: "put", outcome: "QUOTA_EXCEEDED" }), 1);
    assert.equal(sampleValue(samples, "stowage_presign_total", { owner_type: "document", method: "put", outcome: "ok" }), 0);
    assert.ok(!samples.some((s) => Object.values(s.labels).includes("no_such_type_1")), "an owner type no policy names is never a label");
  });

  it("counts confirms, confirmed bytes once per upload, deletes and quota refusals", () => {
    assert.equal(sampleValue(samples, "stowage_confirm_total", { owner_type: "avatar", outcome: "ok" }), 2);
    assert.equal(sampleValue(samples, "stowage_confirm_total", { owner_type: "avatar", outcome: "CONTENT_TYPE_MISMATCH" }), 1);
    assert.equal(sampleValue(samples, "stowage_confirm_total", { owner_type: "unknown", outcome: "NOT_FOUND" }), 1);
    assert.equal(sampleValue(samples, "stowage_confirmed_bytes_total", { owner_type: "avatar" }), PNG.length);
    assert.equal(sampleValue(samples, "stowage_deletes_total", { owner_type: "avatar" }), 1);
    assert.equal(sampleValue(samples, "stowage_deleted_bytes_total", { owner_type: "avatar" }), PNG.length);
    assert.equal(sampleValue(samples, "stowage_quota_refusals_total", { stage: "presign", subject_kind: "user", reason: "bytes" }), 1);
    assert.equal(sampleValue(samples, "stowage_errors_total", { code: "CONTENT_TYPE_MISMATCH" }), 1);
    assert.equal(sampleValue(samples, "stowage_errors_total", { code: "QUOTA_EXCEEDED" }), 1);
  });

  it("labels HTTP durations by route template, never by URL", () => {
    assert.equal(sampleValue(samples, DURATION, { method: "POST", route: "/v1/uploads", status_code: "201" }), 5);
    assert.equal(sampleValue(samples, DURATION, { method: "POST", route: "/v1/uploads/:id/confirm", status_code: "200" }), 2);
    assert.equal(sampleValue(samples, DURATION, { method: "PUT", route: "/storage/:bucket/*", status_code: "200" }), 5);
    assert.equal(sampleValue(samples, DURATION, { method: "GET", route: "/storage/:bucket/*", status_code: "404" }), 4);
    assert.equal(sampleValue(samples, DURATION, { method: "GET", route: "unmatched", status_code: "404" }), 1);
    const routes = new Set(samples.filter((s) => s.name === DURATION).map((s) => s.labels.route));
    assert.deepEqual([...routes].filter((r) => r?.startsWith("/storage")), ["/storage/:bucket/*"]);
    for (const key of keys) assert.ok(!samples.some((s) => Object.values(s.labels).some((v) => v.includes(key))), `no label names ${key}`);
  });

  it("exposes prom-client's process metrics in the same registry", () => {
    assert.ok((sampleValue(samples, "process_cpu_user_seconds_total") ?? 0) > 0);
    assert.ok(samples.some((s) => s.name === "nodejs_eventloop_lag_seconds"));
  });

  it("needs no token on the embedded default, and is outside /v1", async () => {
    assert.equal((await rawRequest(`${server.baseUrl}/v1/metrics`)).status, 404);
    assert.match(String((await rawRequest(`${server.baseUrl}/metrics`)).headers["content-type"]), /^text\/plain; version=0\.0\.4/);
  });
});

describe("metrics of the GraphQL surface", () => {
  it("counts presigns and confirms made through GraphQL alike, and labels the route /graphql", async () => {
    const server = await startStowage();
    try {
      const { body } = await graphql(server, "gina", "mutation($f: FileInfo!) { generateUploadUrl(fileInfo: $f) { uploadId objectKey url headers { name value } } }", {
        f: { ownerType: "avatar", filename: "me.png", contentType: "image/png", size: PNG.length },
      });
      const ticket = body.data.generateUploadUrl;
      const headers = Object.fromEntries(ticket.headers.map((h: { name: string; value: string }) => [h.name, h.value]));
      await putPresigned({ url: ticket.url, headers }, PNG);
      await graphql(server, "gina", "mutation($id: ID) { confirmMediaUpload(uploadId: $id) { success } }", { id: ticket.uploadId });
      // By key, as SEQ-IF-001's client may: counted the same way (a repeat answers, and counts, again).
      await graphql(server, "gina", "mutation($k: String) { confirmMediaUpload(objectKey: $k) { success } }", { k: ticket.objectKey });
      await graphql(server, "gina", "mutation($f: FileInfo!) { generateUploadUrl(fileInfo: $f) { uploadId } }", {
        f: { ownerType: "avatar", filename: "me.png", contentType: "image/png", size: 10 ** 9 },
      });
      assert.equal((await graphql(server, undefined, "{ quota { usedBytes } }")).status, 401);
      const samples = await scrape(server.baseUrl);
      assert.equal(sampleValue(samples, "stowage_presign_total", { owner_type: "avatar", method: "put", outcome: "ok" }), 1);
      assert.equal(sampleValue(samples, "stowage_presign_total", { owner_type: "avatar", method: "put", outcome: "FILE_TOO_LARGE" }), 1);
      assert.equal(sampleValue(samples, "stowage_confirm_total", { owner_type: "avatar", outcome: "ok" }), 2);
      assert.equal(sampleValue(samples, "stowage_confirmed_bytes_total", { owner_type: "avatar" }), PNG.length);
      assert.equal(sampleValue(samples, DURATION, { method: "POST", route: "/graphql", status_code: "200" }), 4);
      // Refusals answered beside the data (200) still count as errors, and so does a refused token.
      assert.equal(sampleValue(samples, "stowage_errors_total", { code: "FILE_TOO_LARGE" }), 1);
      assert.equal(sampleValue(samples, "stowage_errors_total", { code: "UNAUTHENTICATED" }), 1);
    } finally {
      await server.close();
    }
  });
});

describe("metrics exposure", () => {
  it("with STOWAGE_METRICS_TOKEN, /metrics wants exactly that bearer token", async () => {
    const server = await startStowage({ STOWAGE_METRICS_TOKEN: TOKEN });
    try {
      for (const headers of [{}, { authorization: `Bearer ${TOKEN}x` }, { authorization: `Bearer ${TOKEN.slice(1)}` }, { authorization: TOKEN }]) {
        const res = await rawRequest(`${server.baseUrl}/metrics`, { headers });
        assert.equal(res.status, 401, JSON.stringify(headers));
        assert.equal(res.json().error.code, "UNAUTHENTICATED");
      }
      // A user's JWT is no metrics token.
      const jwt = await server.token("alice");
      assert.equal((await rawRequest(`${server.baseUrl}/metrics`, { headers: { authorization: `Bearer ${jwt}` } })).status, 401);
      const samples = await scrape(server.baseUrl, TOKEN);
      assert.equal(sampleValue(samples, "stowage_errors_total", { code: "UNAUTHENTICATED" }), 5);
    } finally {
      await server.close();
    }
  });

  it("with STOWAGE_METRICS_PORT, /metrics is served on that port only", async () => {
    const port = await freePort();
    const server = await startStowage({ STOWAGE_METRICS_PORT: String(port) });
    try {
      assert.equal((await presign(server, "alice", { ownerType: "avatar", contentType: "image/png", size: 10 })).status, 201);
      const main = await rawRequest(`${server.baseUrl}/metrics`);
      assert.equal(main.status, 404);
      assert.equal(main.json().error.code, "NOT_FOUND");
      const samples = await scrape(`http://127.0.0.1:${port}`);
      assert.equal(sampleValue(samples, "stowage_presign_total", { owner_type: "avatar", method: "put", outcome: "ok" }), 1);
      assert.equal((await rawRequest(`http://127.0.0.1:${port}/healthz`)).status, 404, "the metrics port serves nothing else");
    } finally {
      await server.close();
    }
  });

  it("with both, the metrics port wants the token too", async () => {
    const port = await freePort();
    const server = await startStowage({ STOWAGE_METRICS_PORT: String(port), STOWAGE_METRICS_TOKEN: TOKEN });
    try {
      assert.equal((await rawRequest(`http://127.0.0.1:${port}/metrics`)).status, 401);
      await scrape(`http://127.0.0.1:${port}`, TOKEN);
    } finally {
      await server.close();
    }
  });

  it("in production with neither set, /metrics is off (404); STOWAGE_METRICS=on opens it", async () => {
    const off = await startStowage({ NODE_ENV: "production" });
    try {
      const res = await rawRequest(`${off.baseUrl}/metrics`);
      assert.equal(res.status, 404);
      assert.equal(off.runtime.metrics, undefined, "nothing is counted either");
    } finally {
      await off.close();
    }
    const on = await startStowage({ NODE_ENV: "production", STOWAGE_METRICS: "on" });
    try {
      await scrape(on.baseUrl);
    } finally {
      await on.close();
    }
  });

  it("STOWAGE_METRICS=off turns them off outside production too", async () => {
    const server = await startStowage({ STOWAGE_METRICS: "off" });
    try {
      assert.equal((await rawRequest(`${server.baseUrl}/metrics`)).status, 404);
    } finally {
      await server.close();
    }
  });
});

describe("metrics of the scheduled sweep", () => {
  let server: TestServer;
  before(async () => {
    server = await startStowage();
  });
  after(async () => server.close());

  it("counts each run and, per job, bytes, errors and failures", async () => {
    const logger = createLogger("silent");
    const schedule = sweepOnSchedule({ ...server.config, sweep: { ...server.config.sweep, intervalSeconds: 1 } }, server.runtime, logger);
    try {
      const samples = await scrapeOnceRun(server.baseUrl, "ok");
      assert.equal(sampleValue(samples, "stowage_sweep_runs_total", { result: "ok" }), 1);
      for (const job of ["reservations", "abandoned", "unattached", "retention", "missing", "staging", "orphans"]) {
        assert.equal(sampleValue(samples, "stowage_sweep_bytes_total", { job }), 0, job);
        assert.equal(sampleValue(samples, "stowage_sweep_job_failures_total", { job }), 0, job);
      }
      assert.ok((sampleValue(samples, "stowage_sweep_last_run_timestamp_seconds") ?? 0) > Date.now() / 1000 - 60);
    } finally {
      await schedule.stop();
    }
  });

  it("counts, per job, the items handled by action and the items that left something behind", async () => {
    const own = await startStowage();
    const logger = createLogger("silent");
    try {
      // Written straight to disk, older than the orphan grace (24 h): two objects no upload
      // needs, and one whose name no object key can have (skipped, and reported as an error).
      const objects = join(own.dataDir, "storage", "objects", "private", "documents");
      const twoDaysAgo = new Date(Date.now() - 48 * 3600 * 1000);
      for (const name of ["ghost/0197a1e0.pdf", "zz-ghost/0197a1e1.pdf", "evil\\name.pdf"]) {
        await mkdir(dirname(join(objects, name)), { recursive: true });
        await writeFile(join(objects, name), "orphan");
        await utimes(join(objects, name), twoDaysAgo, twoDaysAgo);
      }
      const schedule = sweepOnSchedule({ ...own.config, sweep: { ...own.config.sweep, intervalSeconds: 1 } }, own.runtime, logger);
      try {
        const samples = await scrapeOnceRun(own.baseUrl, "problems");
        assert.equal(sampleValue(samples, "stowage_sweep_runs_total", { result: "problems" }), 1);
        assert.equal(sampleValue(samples, "stowage_sweep_items_total", { job: "orphans", action: "deleted" }), 2);
        assert.equal(sampleValue(samples, "stowage_sweep_items_total", { job: "orphans", action: "skipped" }), 1);
        assert.equal(sampleValue(samples, "stowage_sweep_bytes_total", { job: "orphans" }), 12);
        assert.equal(sampleValue(samples, "stowage_sweep_item_errors_total", { job: "orphans" }), 1);
        assert.equal(sampleValue(samples, "stowage_sweep_item_errors_total", { job: "abandoned" }), 0);
        assert.equal(sampleValue(samples, "stowage_sweep_job_failures_total", { job: "orphans" }), 0);
        const items = samples.filter((s) => s.name === "stowage_sweep_items_total").map((s) => `${s.labels.job} ${s.labels.action}`);
        assert.deepEqual(items.sort(), ["orphans deleted", "orphans skipped"], "no series for an action that never happened");
      } finally {
        await schedule.stop();
      }
    } finally {
      await own.close();
    }
  });
});

describe("metrics of storage and database outages (PostgreSQL and Ceph RGW behind relays)", () => {
  it("counts STORAGE_UNAVAILABLE and DATABASE_UNAVAILABLE answers by code, on REST and GraphQL alike", async () => {
    const database = await tempPostgres();
    const bucket = await tempBucket("stowage-metrics");
    // Each behind a relay the test can cut: a real outage of the real server, nothing mocked.
    const pgUrl = new URL(database.env.DATABASE_URL as string);
    const dbLink = await relay(new URL(`tcp://${pgUrl.hostname}:${pgUrl.port || "5432"}`), await freePort());
    pgUrl.host = `127.0.0.1:${dbLink.port}`;
    const s3Link = await relay(new URL(s3Env().endpoint), await freePort());
    let server: TestServer | undefined;
    try {
      server = await startStowage({
        ...stowageS3Env(bucket.name),
        STOWAGE_S3_ENDPOINT: `http://127.0.0.1:${s3Link.port}`,
        DATABASE_URL: pgUrl.toString(),
      });
      const up = await presignAndPut(server, "dora", PDF, { contentType: "application/pdf" });
      const confirmByGraphql = "mutation($id: ID) { confirmMediaUpload(uploadId: $id) { success } }";

      await s3Link.cut();
      try {
        const rest = await confirm(server, "dora", up.id);
        assert.equal(rest.status, 503);
        assert.equal(rest.json().error.code, "STORAGE_UNAVAILABLE");
        const gql = await graphql(server, "dora", confirmByGraphql, { id: up.id });
        assert.equal(gql.body.errors?.[0]?.extensions.code, "STORAGE_UNAVAILABLE");
      } finally {
        await s3Link.restore();
      }

      await dbLink.cut();
      try {
        const rest = await server.api("GET", "/v1/quota", { as: "dora" });
        assert.equal(rest.status, 503);
        assert.equal(rest.json().error.code, "DATABASE_UNAVAILABLE");
        const gql = await graphql(server, "dora", "{ quota { usedBytes } }");
        assert.equal(gql.body.errors?.[0]?.extensions.code, "DATABASE_UNAVAILABLE");
      } finally {
        await dbLink.restore();
      }

      // Both back: the upload confirms, and only the four refusals above were counted.
      assert.equal((await confirm(server, "dora", up.id)).status, 200);
      const samples = await scrape(server.baseUrl);
      assert.equal(sampleValue(samples, "stowage_errors_total", { code: "STORAGE_UNAVAILABLE" }), 2);
      assert.equal(sampleValue(samples, "stowage_errors_total", { code: "DATABASE_UNAVAILABLE" }), 2);
      assert.equal(sampleValue(samples, "stowage_errors_total", { code: "INTERNAL" }), undefined, "no outage counted as a bug");
      assert.equal(sampleValue(samples, DURATION, { method: "POST", route: "/v1/uploads/:id/confirm", status_code: "503" }), 1);
      assert.equal(sampleValue(samples, DURATION, { method: "GET", route: "/v1/quota", status_code: "503" }), 1);
    } finally {
      await server?.close();
      await Promise.all([dbLink.cut(), s3Link.cut()]);
      await Promise.all([database.drop(), bucket.drop()]);
    }
  });
});

describe("metrics with Redis down", () => {
  it("the fallback gauge reads 1 while Redis cannot be reached", async () => {
    // Nothing listens on this port: every command falls back.
    const server = await startStowage({ REDIS_URL: `redis://127.0.0.1:${await freePort()}` });
    try {
      const alice = await presign(server, "alice", { ownerType: "avatar", contentType: "image/png", size: 10 });
      assert.equal(alice.status, 201);
      const samples = await scrape(server.baseUrl);
      assert.equal(sampleValue(samples, "stowage_redis_fallback"), 1);
      assert.ok((sampleValue(samples, "stowage_redis_errors_total") ?? 0) >= 1);
    } finally {
      await server.close();
    }
  });

  it("and 0 once Redis answers", async () => {
    const server = await startStowage({ REDIS_URL: process.env.REDIS_URL ?? "redis://127.0.0.1:6379" });
    try {
      let value: number | undefined;
      for (let i = 0; i < 50 && value !== 0; i++) {
        value = sampleValue(await scrape(server.baseUrl), "stowage_redis_fallback");
        if (value !== 0) await new Promise((resolve) => setTimeout(resolve, 50));
      }
      assert.equal(value, 0);
    } finally {
      await server.close();
    }
  });
});

/** Scrapes every 100 ms, for up to 4 s, until the scheduled sweep has counted a run with `result`. */
async function scrapeOnceRun(baseUrl: string, result: string): Promise<Sample[]> {
  let samples: Sample[] = [];
  for (let i = 0; i < 40 && sampleValue(samples, "stowage_sweep_runs_total", { result }) === undefined; i++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    samples = await scrape(baseUrl);
  }
  return samples;
}

/**
 * Baseline (a) of the presign benchmark: a bare Fastify route at `POST /v1/uploads` that parses
 * the same JSON body and answers 201 with a JSON body of exactly `RESPONSE_BYTES` bytes — what
 * the framework alone costs, with no auth, policy, database or signing.
 *
 * With `COMMIT` set, each request first writes one row of about an upload row's size and waits
 * for its commit, as any presign that records itself must: `COMMIT=postgres://…` (autocommit
 * INSERTs over a pool of 10, as Stowage's) or `COMMIT=sqlite:<file>` (better-sqlite3 in WAL
 * mode with `synchronous = NORMAL`, Stowage's settings). No batching: one write per request.
 *
 * With `COMMIT_AS=store` as well, each request instead records a pending upload through
 * Stowage's own metadata store (`createUpload`: the uploads row with every index that table
 * has, and the quota reservation, batched per event-loop turn exactly as `stowage serve` does),
 * for the user its bearer token stands for. That is the write a presign cannot do without, with
 * nothing else of Stowage around it (no auth, policy, signing, logging or metrics): the floor
 * its database sets.
 *
 *   PORT=8090 RESPONSE_BYTES=900 [COMMIT=… [COMMIT_AS=store]] node --import tsx bench/servers/bare-fastify.ts
 */
import { randomUUID } from "node:crypto";
import Database from "better-sqlite3";
import Fastify from "fastify";
import pg from "pg";
import { openPostgresStore } from "../../src/store/postgres.js";
import { quotaSubjects } from "../../src/store/quota.js";
import { openSqliteStore } from "../../src/store/sqlite.js";
import type { NewUpload } from "../../src/uploads/record.js";
import { newUploadId } from "../../src/uploads/upload-id.js";
import { stagingKeyFor } from "../../src/policies/staging-key.js";

const port = Number(process.env.PORT ?? 8090);
const size = Number(process.env.RESPONSE_BYTES ?? 900);
const skeleton = { id: "0193a8f0-0000-7000-8000-000000000000", method: "PUT", url: "", headers: {}, expiresAt: new Date().toISOString() };
const padding = size - JSON.stringify(skeleton).length;
const answer = { ...skeleton, url: "x".repeat(Math.max(0, padding)) };
/** About what an uploads row holds besides its body: key, staging key, type, times. */
const ROW_EXTRA = "x".repeat(300);

const TABLE = "create table if not exists bare_commits (id text primary key, body text not null, at bigint not null)";

/** The request's body as Fastify parsed it, and its Authorization header. */
type Write = (body: unknown, authorization: string) => Promise<void>;

/** As the presign benchmark's Stowage is set up: a limit and a pending cap no run reaches. */
const UNLIMITED = { defaultLimitBytes: 2 ** 50, maxPending: 100_000 };

/** Stowage's own store: one pending upload a request, as the avatar policy would record it. */
async function storeWriter(target: string): Promise<Write> {
  const store = target.startsWith("sqlite:") ? openSqliteStore(target.slice("sqlite:".length)) : openPostgresStore(target);
  await store.migrate();
  // One user per distinct bearer token (the benchmark rotates over its users' tokens).
  const users = new Map<string, string>();
  return async (body, authorization) => {
    let userId = users.get(authorization);
    if (userId === undefined) users.set(authorization, (userId = `user${String(users.size).padStart(4, "0")}`));
    const { filename, contentType, size } = body as { filename: string; contentType: string; size: number };
    const id = newUploadId();
    const now = new Date();
    const upload: NewUpload = {
      id, userId, orgId: undefined, ownerType: "avatar", ownerId: undefined, bucket: "public", key: `avatars/${userId}/${id}.png`,
      staging: { bucket: "private", key: stagingKeyFor(id) }, method: "put", filename, contentType, declaredSize: size,
      createdAt: now, expiresAt: new Date(now.getTime() + 900_000), multipart: undefined,
    };
    const reserve = [{ subject: quotaSubjects(userId, undefined)[0] as string, ...UNLIMITED }];
    const outcome = await store.createUpload({ upload, reserve, now });
    if (outcome.kind !== "created") throw new Error(`the store refused the upload: ${outcome.kind}`);
  };
}

async function writer(target: string | undefined, as: string | undefined): Promise<Write | undefined> {
  if (target === undefined || target === "") return undefined;
  if (as === "store") return storeWriter(target);
  if (target.startsWith("sqlite:")) {
    const db = new Database(target.slice("sqlite:".length));
    db.pragma("journal_mode = WAL");
    db.pragma("synchronous = NORMAL");
    db.exec(TABLE);
    const insert = db.prepare("insert into bare_commits (id, body, at) values (?, ?, ?)");
    return (body) => {
      insert.run(randomUUID(), JSON.stringify(body) + ROW_EXTRA, Date.now());
      return Promise.resolve();
    };
  }
  const pool = new pg.Pool({ connectionString: target, max: 10 });
  await pool.query(TABLE);
  return async (body) => {
    await pool.query("insert into bare_commits (id, body, at) values ($1, $2, $3)", [randomUUID(), JSON.stringify(body) + ROW_EXTRA, Date.now()]);
  };
}

const write = await writer(process.env.COMMIT, process.env.COMMIT_AS);
const app = Fastify({ logger: false });
app.post("/v1/uploads", async (request, reply) => {
  if (write !== undefined) await write(request.body, request.headers.authorization ?? "");
  return reply.status(201).send(answer);
});
await app.listen({ host: "127.0.0.1", port });
process.stderr.write(`bare fastify listening on ${port}, answering ${JSON.stringify(answer).length} bytes${write === undefined ? "" : process.env.COMMIT_AS === "store" ? ", one upload recorded through Stowage's store a request" : ", one write a request"}\n`);
for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => void app.close().then(() => process.exit(0)));

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
 *   PORT=8090 RESPONSE_BYTES=900 [COMMIT=…] node --import tsx bench/servers/bare-fastify.ts
 */
import { randomUUID } from "node:crypto";
import Database from "better-sqlite3";
import Fastify from "fastify";
import pg from "pg";

const port = Number(process.env.PORT ?? 8090);
const size = Number(process.env.RESPONSE_BYTES ?? 900);
const skeleton = { id: "0193a8f0-0000-7000-8000-000000000000", method: "PUT", url: "", headers: {}, expiresAt: new Date().toISOString() };
const padding = size - JSON.stringify(skeleton).length;
const answer = { ...skeleton, url: "x".repeat(Math.max(0, padding)) };
/** About what an uploads row holds besides its body: key, staging key, type, times. */
const ROW_EXTRA = "x".repeat(300);

const TABLE = "create table if not exists bare_commits (id text primary key, body text not null, at bigint not null)";

async function writer(target: string | undefined): Promise<((body: string) => Promise<void>) | undefined> {
  if (target === undefined || target === "") return undefined;
  if (target.startsWith("sqlite:")) {
    const db = new Database(target.slice("sqlite:".length));
    db.pragma("journal_mode = WAL");
    db.pragma("synchronous = NORMAL");
    db.exec(TABLE);
    const insert = db.prepare("insert into bare_commits (id, body, at) values (?, ?, ?)");
    return (body) => {
      insert.run(randomUUID(), body + ROW_EXTRA, Date.now());
      return Promise.resolve();
    };
  }
  const pool = new pg.Pool({ connectionString: target, max: 10 });
  await pool.query(TABLE);
  return async (body) => {
    await pool.query("insert into bare_commits (id, body, at) values ($1, $2, $3)", [randomUUID(), body + ROW_EXTRA, Date.now()]);
  };
}

const write = await writer(process.env.COMMIT);
const app = Fastify({ logger: false });
app.post("/v1/uploads", async (request, reply) => {
  if (write !== undefined) await write(JSON.stringify(request.body));
  return reply.status(201).send(answer);
});
await app.listen({ host: "127.0.0.1", port });
process.stderr.write(`bare fastify listening on ${port}, answering ${JSON.stringify(answer).length} bytes${write === undefined ? "" : ", one write a request"}\n`);
for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => void app.close().then(() => process.exit(0)));

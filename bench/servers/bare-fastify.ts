/**
 * Baseline (a) of the presign benchmark: a bare Fastify route at `POST /v1/uploads` that parses
 * the same JSON body and answers 201 with a JSON body of exactly `RESPONSE_BYTES` bytes — what
 * the framework alone costs, with no auth, policy, database or signing.
 *
 *   PORT=8090 RESPONSE_BYTES=900 node --import tsx bench/servers/bare-fastify.ts
 */
import Fastify from "fastify";

const port = Number(process.env.PORT ?? 8090);
const size = Number(process.env.RESPONSE_BYTES ?? 900);
const skeleton = { id: "0193a8f0-0000-7000-8000-000000000000", method: "PUT", url: "", headers: {}, expiresAt: new Date().toISOString() };
const padding = size - JSON.stringify(skeleton).length;
const answer = { ...skeleton, url: "x".repeat(Math.max(0, padding)) };

const app = Fastify({ logger: false });
app.post("/v1/uploads", async (_request, reply) => reply.status(201).send(answer));
await app.listen({ host: "127.0.0.1", port });
process.stderr.write(`bare fastify listening on ${port}, answering ${JSON.stringify(answer).length} bytes\n`);
for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => void app.close().then(() => process.exit(0)));

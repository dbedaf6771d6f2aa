import type { FastifyInstance } from "fastify";

/**
 * One info line per request, written when its answer is sent: the request id, method and path
 * (the logger's `req` serializer drops the query string, where signatures ride), the status and
 * the time taken. Fastify's own request logging writes two lines (`incoming request` and
 * `request completed`), the first saying nothing the second does not; `npm run bench --
 * presign-stages` times both ways (the first line is a third of their cost).
 */
export function logRequests(app: FastifyInstance): void {
  app.addHook("onResponse", (request, reply, done) => {
    request.log.info({ req: request, res: reply, responseTime: reply.elapsedTime }, "request completed");
    done();
  });
}

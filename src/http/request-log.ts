import { type FastifyReply, type FastifyRequest, LogController } from "fastify";

/**
 * One info line per request, written when its answer is sent: the request id, method and path
 * (the logger's `req` serializer drops the query string, where signatures ride), the status and
 * the time taken. Fastify's own controller writes two (`incoming request`, then `request
 * completed`), the first saying nothing the second does not; `npm run bench -- presign-stages`
 * times both ways. Every other line Fastify writes about a request (errors) stays as it was.
 */
export class OneLineRequestLog extends LogController {
  override incomingRequest(): void {
    // Said by the line written on completion.
  }

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    if (this.isLogDisabled(request)) return;
    const line = { req: request, res: reply, responseTime: reply.elapsedTime };
    if (error) reply.log.error({ ...line, err: error }, "request errored");
    else reply.log.info(line, "request completed");
  }
}

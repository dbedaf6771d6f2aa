import type { ServerOptions } from "node:http";
import type { Socket } from "node:net";
import { Transform, type Readable } from "node:stream";
import type { FastifyInstance } from "fastify";
import type { ConnectionConfig } from "../config/schema.js";
import { StowageError } from "../errors.js";

/**
 * How long a client may hold a connection, in the four places it can wait:
 *
 * - **headers**: Node's `headersTimeout` (checked every second, not every 30 s);
 * - **a request body**: `guardBody` below, a stall timeout on every body and, for the API, a
 *   deadline for the whole of it (its bodies are at most 64 KiB; `/storage` uploads may be
 *   gigabytes, so they only must keep moving). The answer is `408 REQUEST_TIMEOUT`;
 * - **between requests**: Node's `keepAliveTimeout`;
 * - **an answer the client does not read**: the socket's inactivity timeout, which is ignored
 *   while a handler is working (a confirm that copies a large object sends nothing for a while).
 *
 * Plus a cap on open connections. Node's own `requestTimeout` stays off: it would cut a large
 * upload that is still moving.
 */
export interface ConnectionLimits {
  requestTimeoutMs: number;
  stallTimeoutMs: number;
  idleTimeoutMs: number;
  maxConnections: number;
}

export function connectionLimitsOf(config: ConnectionConfig): ConnectionLimits {
  return {
    requestTimeoutMs: config.requestTimeoutSeconds * 1000,
    stallTimeoutMs: config.stallTimeoutSeconds * 1000,
    idleTimeoutMs: config.idleTimeoutSeconds * 1000,
    maxConnections: config.maxConnections,
  };
}

/** The Fastify options that carry the limits into Node's HTTP server. */
export function serverOptionsOf(limits: ConnectionLimits): {
  http: ServerOptions;
  connectionTimeout: number;
  keepAliveTimeout: number;
  requestTimeout: number;
} {
  return {
    http: { headersTimeout: limits.requestTimeoutMs, connectionsCheckingInterval: 1000 },
    connectionTimeout: limits.idleTimeoutMs,
    keepAliveTimeout: limits.idleTimeoutMs,
    requestTimeout: 0,
  };
}

/** Sockets whose request is being handled: their silence is Stowage's, not the client's. */
const working = new WeakSet<Socket>();

/** Marks a request as being handled (body read, handler running) until its answer is sent. */
export function markWorking(app: FastifyInstance): void {
  app.addHook("preHandler", (request, _reply, done) => {
    working.add(request.raw.socket);
    done();
  });
  const idle = (request: { raw: { socket: Socket } }) => working.delete(request.raw.socket);
  app.addHook("onSend", (request, _reply, payload, done) => {
    idle(request);
    done(null, payload);
  });
  app.addHook("onResponse", (request, _reply, done) => {
    idle(request);
    done();
  });
}

/** Applies the cap and the inactivity rule to the server (once, before it listens). */
export function limitConnections(app: FastifyInstance, limits: ConnectionLimits): void {
  app.server.maxConnections = limits.maxConnections;
  // With a listener Node no longer destroys a timed-out socket itself: this decides.
  app.server.on("timeout", (socket: Socket) => {
    if (working.has(socket)) return; // the timer re-arms on the next byte either way
    socket.destroy();
  });
}

/**
 * The body of a request, cut with `408 REQUEST_TIMEOUT` when no byte arrives for `stallMs` or,
 * with `deadlineMs`, when the whole body has not arrived by then. The source is only unpiped,
 * never destroyed, so the 408 can still be written before the connection is closed.
 */
export function guardBody(source: Readable, options: { stallMs: number; deadlineMs?: number | undefined }): Readable {
  const { stallMs, deadlineMs } = options;
  const guarded = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      stall.refresh();
      callback(null, chunk);
    },
  });
  const cut = (message: string) => {
    clear();
    source.unpipe(guarded);
    guarded.destroy(new StowageError("REQUEST_TIMEOUT", message));
  };
  const stall = setTimeout(() => cut(`No part of the body arrived for ${stallMs / 1000} s.`), stallMs);
  const deadline =
    deadlineMs === undefined ? undefined : setTimeout(() => cut(`The request did not fully arrive within ${deadlineMs / 1000} s.`), deadlineMs);
  const clear = () => {
    clearTimeout(stall);
    if (deadline !== undefined) clearTimeout(deadline);
  };
  // The reader of the body gets its errors; a body nobody reads (refused before parsing) must
  // not crash the process with them.
  guarded.on("error", () => undefined);
  // `finish`: the whole body has passed through (whether or not its reader has caught up).
  guarded.once("finish", clear).once("close", clear);
  source.once("error", (error) => guarded.destroy(error));
  // A connection closed mid-body (the client left, or a shutdown cut it) ends the body too.
  source.once("close", () => {
    if (!source.readableEnded) guarded.destroy(new StowageError("INCOMPLETE_BODY", "The connection closed before the whole body arrived."));
  });
  source.pipe(guarded);
  return guarded;
}

/** Whether a request declares a body (the only ones a body guard is for). */
export function hasBody(headers: { "content-length"?: string | undefined; "transfer-encoding"?: string | undefined }): boolean {
  return headers["transfer-encoding"] !== undefined || (headers["content-length"] !== undefined && headers["content-length"] !== "0");
}

import type { FastifyError, FastifyReply, FastifyRequest } from "fastify";
import { type ErrorCode, isStowageError, StowageError } from "../errors.js";

/** The one error answer shape: `{ "error": { "code", "message", "details"? } }`. */
export interface ErrorBody {
  error: { code: string; message: string; details?: Record<string, unknown> };
}

/**
 * Fastify's own errors (router, body parsers, content types), as Stowage errors with messages
 * of our own: Fastify's speak of its internals ("content-type is set to …") or echo the URL.
 */
const FASTIFY_ERRORS: Readonly<Record<string, { code: ErrorCode; message: string; field?: string }>> = {
  FST_ERR_BAD_URL: { code: "INVALID_REQUEST", message: "The URL path has a malformed percent-encoding.", field: "url" },
  FST_ERR_MAX_PARAM_LENGTH: { code: "URI_TOO_LONG", message: "A segment of the URL path is too long." },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { code: "UNSUPPORTED_MEDIA_TYPE", message: "The request body must be JSON (Content-Type: application/json)." },
  FST_ERR_CTP_BODY_TOO_LARGE: { code: "BODY_TOO_LARGE", message: "The request body is larger than this endpoint accepts." },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { code: "INVALID_REQUEST", message: "The body's length does not match its Content-Length.", field: "body" },
  FST_ERR_CTP_EMPTY_JSON_BODY: { code: "INVALID_REQUEST", message: "The body is empty, but its Content-Type says JSON.", field: "body" },
  FST_ERR_CTP_INVALID_JSON_BODY: { code: "INVALID_REQUEST", message: "The body is not valid JSON.", field: "body" },
};

/** Maps every thrown value to a StowageError: the one place errors become HTTP answers. */
export function toStowageError(error: unknown): StowageError {
  if (isStowageError(error)) return error;
  if (typeof error !== "object" || error === null) {
    return new StowageError("INTERNAL", "Something went wrong on our side.", { cause: error });
  }
  const fastifyError = error as Partial<FastifyError> & { validationContext?: string };
  if (fastifyError.validation !== undefined) {
    const first = fastifyError.validation[0];
    const path = (first?.instancePath ?? "").replace(/^\//, "").replaceAll("/", ".");
    const missing = (first?.params as { missingProperty?: string } | undefined)?.missingProperty;
    const field = [fastifyError.validationContext, path, missing].filter(Boolean).join(".");
    return new StowageError(
      "INVALID_REQUEST",
      `Invalid ${field || "request"}: ${first?.message ?? "invalid"}.`,
      {
        details: {
          field,
          problems: fastifyError.validation.map((v) => `${v.instancePath || "/"} ${v.message}`),
        },
      },
    );
  }
  const mapped = fastifyError.code === undefined ? undefined : FASTIFY_ERRORS[fastifyError.code];
  if (mapped !== undefined) {
    const details = mapped.field === undefined ? {} : { details: { field: mapped.field } };
    return new StowageError(mapped.code, mapped.message, { cause: error, ...details });
  }
  if (
    fastifyError.statusCode !== undefined &&
    fastifyError.statusCode >= 400 &&
    fastifyError.statusCode < 500
  ) {
    return new StowageError("INVALID_REQUEST", fastifyError.message ?? "Bad request.", {
      cause: error,
    });
  }
  return new StowageError("INTERNAL", "Something went wrong on our side.", { cause: error });
}

/** What an object's answer carries that an error answered in its place must not. */
const OBJECT_HEADERS = ["etag", "last-modified", "accept-ranges", "content-disposition"];

export function errorHandler(error: unknown, request: FastifyRequest, reply: FastifyReply): void {
  const stowageError = toStowageError(error);
  // A shutdown's refusal is the drain working as designed, not a failure to look into.
  if (stowageError.status >= 500 && stowageError.code !== "SHUTTING_DOWN") {
    request.log.error({ err: error, code: stowageError.code }, "request failed");
  } else {
    request.log.info({ code: stowageError.code }, stowageError.message);
  }
  if (stowageError.status === 503) {
    void reply.header("Retry-After", "5");
  }
  // A request refused before its whole body arrived (a timeout, a part PUT to a gone upload, a
  // missing token): the rest is not read, so the connection closes after the answer. Kept open,
  // a keep-alive client would send its next request behind bytes nobody reads, and wait.
  if (!request.raw.complete) void reply.header("Connection", "close");
  const retryAfter = stowageError.details?.retryAfterSeconds;
  if (typeof retryAfter === "number") void reply.header("Retry-After", String(retryAfter));
  // A refusal is never cached, and describes no object: a route serving one may have set these
  // before it failed (a 416 on a public object would otherwise be cached for a day).
  for (const name of OBJECT_HEADERS) void reply.removeHeader(name);
  void reply.header("Cache-Control", "no-store");
  const body: ErrorBody = { error: { code: stowageError.code, message: stowageError.message } };
  if (stowageError.details !== undefined) body.error.details = locateField(stowageError.details, request);
  // Serialized here: a route may already have set another Content-Type (an object being served).
  void reply
    .status(stowageError.status)
    .type("application/json; charset=utf-8")
    .send(JSON.stringify(body));
}

/**
 * The service names a refused field as its input calls it (`size`, `partNumbers`, `cursor`): it
 * knows nothing of HTTP. Here it becomes the part of the request it came in (`body.size`,
 * `querystring.cursor`), as schema refusals name it, so a REST client sees one convention.
 */
function locateField(details: Record<string, unknown>, request: FastifyRequest): Record<string, unknown> {
  const field = details.field;
  if (typeof field !== "string" || field.includes(".")) return details;
  const parts: Record<string, unknown> = { body: request.body, querystring: request.query, params: request.params };
  const part = Object.keys(parts).find((name) => {
    const value = parts[name];
    return typeof value === "object" && value !== null && Object.hasOwn(value, field);
  });
  return part === undefined ? details : { ...details, field: `${part}.${field}` };
}

/**
 * Fastify's `frameworkErrors`: a URL the router cannot take (malformed percent-encoding, an
 * over-long segment) fails before any hook has run, so the request id header is set here.
 */
export function frameworkErrorHandler(error: unknown, request: FastifyRequest, reply: FastifyReply): void {
  void reply.header("X-Request-Id", request.id);
  errorHandler(error, request, reply);
}

export function notFoundHandler(request: FastifyRequest, reply: FastifyReply): void {
  errorHandler(
    new StowageError("NOT_FOUND", `No route for ${request.method} ${request.url.split("?")[0]}.`),
    request,
    reply,
  );
}

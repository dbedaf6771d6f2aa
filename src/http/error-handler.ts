import type { FastifyError, FastifyReply, FastifyRequest } from "fastify";
import { type ErrorCode, isStowageError, StowageError } from "../errors.js";

/** The one error answer shape: `{ "error": { "code", "message", "details"? } }`. */
export interface ErrorBody {
  error: { code: string; message: string; details?: Record<string, unknown> };
}

/** Fastify's own error codes, as Stowage codes. */
const FASTIFY_CODES: Readonly<Record<string, ErrorCode>> = {
  FST_ERR_CTP_BODY_TOO_LARGE: "BODY_TOO_LARGE",
  FST_ERR_CTP_INVALID_MEDIA_TYPE: "INVALID_REQUEST",
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: "INVALID_REQUEST",
  FST_ERR_CTP_EMPTY_JSON_BODY: "INVALID_REQUEST",
  FST_ERR_CTP_INVALID_JSON_BODY: "INVALID_REQUEST",
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
  const mapped = fastifyError.code === undefined ? undefined : FASTIFY_CODES[fastifyError.code];
  if (mapped !== undefined) {
    const message =
      fastifyError.code === "FST_ERR_CTP_INVALID_MEDIA_TYPE"
        ? "The request body must be JSON."
        : (fastifyError.message ?? "Bad request.");
    return new StowageError(mapped, message, { cause: error });
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

export function errorHandler(error: unknown, request: FastifyRequest, reply: FastifyReply): void {
  const stowageError = toStowageError(error);
  if (stowageError.status >= 500) {
    request.log.error({ err: error, code: stowageError.code }, "request failed");
  } else {
    request.log.info({ code: stowageError.code }, stowageError.message);
  }
  if (stowageError.code === "DATABASE_UNAVAILABLE" || stowageError.code === "STORAGE_UNAVAILABLE") {
    void reply.header("Retry-After", "5");
  }
  const retryAfter = stowageError.details?.retryAfterSeconds;
  if (typeof retryAfter === "number") void reply.header("Retry-After", String(retryAfter));
  const body: ErrorBody = { error: { code: stowageError.code, message: stowageError.message } };
  if (stowageError.details !== undefined) body.error.details = stowageError.details;
  // Serialized here: a route may already have set another Content-Type (an object being served).
  void reply
    .status(stowageError.status)
    .type("application/json; charset=utf-8")
    .send(JSON.stringify(body));
}

export function notFoundHandler(request: FastifyRequest, reply: FastifyReply): void {
  errorHandler(
    new StowageError("NOT_FOUND", `No route for ${request.method} ${request.url.split("?")[0]}.`),
    request,
    reply,
  );
}

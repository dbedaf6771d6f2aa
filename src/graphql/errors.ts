import type { FastifyBaseLogger } from "fastify";
import type { ExecutionResult, FormattedExecutionResult, GraphQLError, GraphQLFormattedError } from "graphql";
import type { StowageError } from "../errors.js";
import { toStowageError } from "../http/error-handler.js";

/**
 * GraphQL errors with the REST API's stable codes: `errors[].extensions.code` (and
 * `extensions.details`). A refusal of the query itself (syntax, validation, depth, cost, bad
 * variables) is `INVALID_REQUEST`; a request Fastify refused before GraphQL saw it (a body too
 * large, not JSON, a batch) keeps the code and status REST gives it; a failure of ours is
 * `INTERNAL`, its message never shown.
 */
export function formatErrors(
  execution: ExecutionResult,
  log: FastifyBaseLogger,
): { statusCode: number; response: FormattedExecutionResult } {
  const formatted = (execution.errors ?? []).map((error) => format(error, log));
  // Errors of resolvers answer 200 beside the data (GraphQL over HTTP); a refused request its own status.
  const refusal = execution.data ? undefined : formatted.find((f) => f.status !== undefined)?.status;
  return { statusCode: refusal ?? 200, response: { data: execution.data ?? null, errors: formatted.flatMap((f) => f.errors) } };
}

function format(error: GraphQLError, log: FastifyBaseLogger): { errors: GraphQLFormattedError[]; status?: number } {
  const original: unknown = error.originalError;
  const where = {
    ...(error.locations === undefined ? {} : { locations: error.locations }),
    ...(error.path === undefined ? {} : { path: error.path }),
  };
  // mercurius wraps validation failures (one per broken rule, depth and cost included) in one error.
  const wrapped = original as { code?: unknown; errors?: unknown } | undefined;
  if (wrapped?.code === "MER_ERR_GQL_VALIDATION" && Array.isArray(wrapped.errors)) {
    const errors = wrapped.errors.map((inner: { message: string; locations?: GraphQLFormattedError["locations"] }) => ({
      message: inner.message,
      ...(inner.locations === undefined ? {} : { locations: inner.locations }),
      extensions: { code: "INVALID_REQUEST" },
    }));
    return { errors, status: 400 };
  }
  if (original === undefined || original === null || (original as { name?: string }).name === "GraphQLError") {
    // GraphQL's own: a variable of the wrong type, a SafeInt out of range.
    const code = typeof error.extensions.code === "string" ? error.extensions.code : "INVALID_REQUEST";
    return { errors: [{ message: error.message, ...where, extensions: { code } }] };
  }
  const refusal = toStowageError(original);
  if (refusal.status >= 500) log.error({ err: original, code: refusal.code }, "graphql request failed");
  const errors = [{ message: refusal.message, ...where, extensions: extensionsOf(refusal) }];
  // Outside any resolver (no path): the request itself was refused (by Fastify or a hook).
  return error.path === undefined ? { errors, status: refusal.status } : { errors };
}

export function extensionsOf(error: StowageError): Record<string, unknown> {
  return error.details === undefined ? { code: error.code } : { code: error.code, details: error.details };
}

import type { FastifyRequest } from "fastify";
import { operations } from "../api/operations.js";
import type { Authenticate } from "../auth/authenticate.js";
import { type Principal, userOnly } from "../auth/principal.js";
import { StowageError } from "../errors.js";

/** Operations only a user may call, by method and route path: an upload link is refused there before it is looked up. */
const USER_ONLY = new Set(Object.values(operations).filter((op) => op.auth === "user").map((op) => `${op.method} ${op.path}`));

/**
 * An `onRequest` hook that proves the request's principal (`auth/authenticate.ts`) and sets
 * `request.caller`. On a route only a user may call, an upload link's token is refused as it
 * arrives, whatever its state.
 */
export function requireCaller(authenticate: Authenticate) {
  return async (request: FastifyRequest): Promise<void> => {
    const header = request.headers.authorization;
    if (header?.startsWith("UploadLink ") === true && USER_ONLY.has(`${request.method} ${request.routeOptions.url ?? ""}`)) {
      throw userOnly();
    }
    request.caller = await authenticate(header, request.ip);
  };
}

/** The verified caller of an authenticated route. */
export function callerOf(request: FastifyRequest): Principal {
  if (request.caller === undefined) throw new StowageError("UNAUTHENTICATED", "Not authenticated.");
  return request.caller;
}

import type { FastifyRequest } from "fastify";
import type { TokenVerifier } from "../auth/jwt.js";
import { StowageError } from "../errors.js";
import type { Caller } from "../uploads/context.js";

/** A `preHandler` that verifies `Authorization: Bearer <JWT>` and sets `request.caller`. */
export function requireCaller(verifyToken: TokenVerifier) {
  return async (request: FastifyRequest): Promise<void> => {
    const header = request.headers.authorization;
    const match = header === undefined ? null : /^Bearer ([A-Za-z0-9_.~+/=-]+)$/.exec(header);
    if (match?.[1] === undefined) {
      throw new StowageError("UNAUTHENTICATED", "Send 'Authorization: Bearer <token>'.");
    }
    request.caller = await verifyToken(match[1]);
  };
}

/** The verified caller of an authenticated route. */
export function callerOf(request: FastifyRequest): Caller {
  if (request.caller === undefined) throw new StowageError("UNAUTHENTICATED", "Not authenticated.");
  return request.caller;
}

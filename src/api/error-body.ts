import Type, { type Static } from "typebox";
import { ERROR_STATUS, type ErrorCode } from "../errors.js";

/** Every stable error code, as the API answers it. */
export const ERROR_CODES = Object.keys(ERROR_STATUS) as ErrorCode[];

/**
 * The one error answer shape: `{ "error": { "code", "message", "details"? } }`. `details.field`
 * names the refused field where there is one (REST: `body.size`, `querystring.limit`; GraphQL:
 * the argument path).
 */
export const ErrorBody = Type.Object(
  {
    error: Type.Object({
      code: Type.Unsafe<ErrorCode>({ type: "string", enum: ERROR_CODES, description: "A stable code: see the README's error table." }),
      message: Type.String({ description: "For people: what went wrong and, where it helps, what to do." }),
      details: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
    }),
  },
  { additionalProperties: false },
);
export type ErrorBody = Static<typeof ErrorBody>;

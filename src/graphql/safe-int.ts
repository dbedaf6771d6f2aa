import { GraphQLError, GraphQLScalarType, Kind } from "graphql";

function check(value: unknown): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value)) {
    throw new GraphQLError(`SafeInt must be a whole number within ±(2^53 − 1) (got ${JSON.stringify(value)}).`, {
      extensions: { code: "INVALID_REQUEST" },
    });
  }
  return value;
}

/** Byte counts up to 2^53 − 1 (GraphQL's `Int` stops at 2^31 − 1); never a string, never a fraction. */
export const SafeInt = new GraphQLScalarType({
  name: "SafeInt",
  serialize: check,
  parseValue: check,
  parseLiteral(ast) {
    if (ast.kind !== Kind.INT) throw new GraphQLError("SafeInt must be an integer literal.", { extensions: { code: "INVALID_REQUEST" } });
    return check(Number(ast.value));
  },
});

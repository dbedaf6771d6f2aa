import type { TSchema } from "typebox";
import { Compile } from "typebox/compile";
import { StowageError } from "../errors.js";

const compiled = new WeakMap<TSchema, ReturnType<typeof Compile>>();

/**
 * Checks a GraphQL argument against the same contract schema the REST route validates with
 * (`src/api/`), so both surfaces refuse the same input: `INVALID_REQUEST` with `details.field`
 * the argument path (`fileInfo.size`). GraphQL's own types have already checked the shapes.
 */
export function checkInput<T>(schema: TSchema, value: unknown, argument: string): T {
  let check = compiled.get(schema);
  if (check === undefined) {
    check = Compile(schema);
    compiled.set(schema, check);
  }
  const input = withoutNulls(value);
  if (check.Check(input)) return input as T;
  // The first real problem (typebox also lists `schema is false` for each unknown property).
  const errors = check.Errors(input);
  const first = errors.find((e) => e.keyword !== "boolean") ?? errors[0];
  const path = (first?.instancePath ?? "").replace(/^\//, "").replaceAll("/", ".");
  const field = [argument, path].filter(Boolean).join(".");
  throw new StowageError("INVALID_REQUEST", `Invalid ${field}: ${first?.message ?? "invalid"}.`, { details: { field } });
}

/** GraphQL passes an optional argument left out as absent but one given as `null` as null: both mean "not given". */
function withoutNulls(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutNulls);
  if (typeof value !== "object" || value === null) return value;
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== null && v !== undefined).map(([k, v]) => [k, withoutNulls(v)]));
}

/**
 * Re-throws a service refusal naming a field as the GraphQL argument it came in: a string
 * prefixes (`size` → `fileInfo.size`), a map renames (`{ cursor: "after" }`).
 */
export async function within<T>(argument: string | Readonly<Record<string, string>>, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    const field = (error as StowageError).details?.field;
    if (!(error instanceof StowageError) || typeof field !== "string") throw error;
    const renamed = typeof argument === "string" ? `${argument}.${field}` : argument[field];
    if (renamed === undefined) throw error;
    throw new StowageError(error.code, error.message, { details: { ...error.details, field: renamed }, cause: error });
  }
}

import { StowageClientError } from "./errors.js";

/**
 * The SDK's numeric options, checked where they are given: a `concurrency` of NaN would start no
 * part at all and ask the server to complete an empty upload, a negative timeout would cut every
 * call at once. A wrong one is a `configuration` error naming the option and what it got, raised
 * before anything is sent.
 */
export function wholeNumber(name: string, value: number | undefined, min: number): number | undefined {
  if (value === undefined || (Number.isSafeInteger(value) && value >= min)) return value;
  throw invalid(name, `a whole number of at least ${min}`, value);
}

export function milliseconds(name: string, value: number | undefined): number | undefined {
  if (value === undefined || (typeof value === "number" && Number.isFinite(value) && value >= 0)) return value;
  throw invalid(name, "a number of milliseconds, 0 or more", value);
}

function invalid(name: string, expected: string, value: unknown): StowageClientError {
  const got = typeof value === "number" ? String(value) : typeof value === "string" ? JSON.stringify(value) : typeof value;
  return new StowageClientError("configuration", "INVALID_OPTION", `\`${name}\` must be ${expected}; got ${got}.`);
}

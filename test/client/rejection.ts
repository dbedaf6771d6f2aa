import assert from "node:assert/strict";
import { isStowageClientError, type StowageClientError } from "../../packages/client/src/errors.js";

/** The SDK error `promise` rejects with; fails the test if it resolves or rejects with anything else. */
export async function rejection(promise: Promise<unknown>): Promise<StowageClientError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(isStowageClientError(error), `not a StowageClientError: ${String(error)}`);
    return error;
  }
  assert.fail("expected a rejection");
}

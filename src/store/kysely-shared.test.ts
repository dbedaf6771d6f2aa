import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { StowageError } from "../errors.js";
import { guardDb } from "./kysely-shared.js";

const failWith = (error: unknown) => guardDb(() => Promise.reject(error));
const codeOf = async (error: unknown) => failWith(error).then(
  () => assert.fail("guardDb resolved"),
  (thrown: unknown) => (thrown instanceof StowageError ? thrown.code : thrown),
);

describe("guardDb", () => {
  it("answers DATABASE_UNAVAILABLE for pg's connection failures, which carry no code, only a message", async () => {
    for (const message of [
      "Connection terminated unexpectedly",
      // What a ROLLBACK meets once the backend under its transaction was terminated (seen by hand:
      // pg_terminate_backend under 16 clients presigning gave 4 of these as 500 INTERNAL).
      "Client has encountered a connection error and is not queryable",
      "timeout exceeded when trying to connect",
      "Connection terminated due to connection timeout",
    ]) {
      assert.equal(await codeOf(new Error(message)), "DATABASE_UNAVAILABLE", message);
    }
  });

  it("answers DATABASE_UNAVAILABLE for socket and server codes, and leaves every other failure as it is", async () => {
    assert.equal(await codeOf(Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" })), "DATABASE_UNAVAILABLE");
    assert.equal(await codeOf(Object.assign(new Error("terminating connection due to administrator command"), { code: "57P01" })), "DATABASE_UNAVAILABLE");
    const bug = new Error("column \"x\" does not exist");
    assert.equal(await codeOf(bug), bug);
    const similar = new Error("Connection terminated unexpectedly, and more");
    assert.equal(await codeOf(similar), similar);
  });
});

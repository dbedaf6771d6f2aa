import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { StowageError } from "../errors.js";
import { toStowageError } from "./error-handler.js";

describe("toStowageError", () => {
  it("passes a StowageError through unchanged", () => {
    const original = new StowageError("QUOTA_EXCEEDED", "Over quota.", {
      details: { usedBytes: 1 },
    });
    assert.equal(toStowageError(original), original);
  });

  it("maps a Fastify validation error to INVALID_REQUEST naming the field", () => {
    const error = {
      validation: [
        {
          instancePath: "/size",
          message: "must be >= 1",
          params: {},
          keyword: "minimum",
          schemaPath: "#",
        },
      ],
      validationContext: "body",
    };
    const result = toStowageError(error);
    assert.equal(result.code, "INVALID_REQUEST");
    assert.equal(result.status, 400);
    assert.equal(result.details?.field, "body.size");
    assert.deepEqual(result.details?.problems, ["/size must be >= 1"]);
    assert.match(result.message, /body\.size/);
    assert.match(result.message, /must be >= 1/);
  });

  it("names a missing required property and nested paths", () => {
    const missing = toStowageError({
      validation: [
        {
          instancePath: "",
          message: "must have required property 'ownerType'",
          params: { missingProperty: "ownerType" },
          keyword: "required",
          schemaPath: "#/required",
        },
      ],
      validationContext: "body",
    });
    assert.equal(missing.details?.field, "body.ownerType");

    const nested = toStowageError({
      validation: [
        { instancePath: "/meta/tags/0", message: "bad", params: {}, keyword: "x", schemaPath: "#" },
      ],
      validationContext: "querystring",
    });
    assert.equal(nested.details?.field, "querystring.meta.tags.0");
  });

  it("maps a too-large body to BODY_TOO_LARGE (413)", () => {
    const result = toStowageError({ code: "FST_ERR_CTP_BODY_TOO_LARGE", statusCode: 413 });
    assert.equal(result.code, "BODY_TOO_LARGE");
    assert.equal(result.status, 413);
  });

  it("answers a wrong media type with 415, without echoing Fastify's message", () => {
    const result = toStowageError({
      code: "FST_ERR_CTP_INVALID_MEDIA_TYPE",
      statusCode: 415,
      message: "Unsupported Media Type: text/html",
    });
    assert.equal(result.code, "UNSUPPORTED_MEDIA_TYPE");
    assert.equal(result.status, 415);
    assert.equal(result.message, "The request body must be JSON (Content-Type: application/json).");
  });

  it("maps a plain Error to INTERNAL 500 without leaking its message", () => {
    const original = new Error("ECONNREFUSED 10.0.0.5:5432 password=hunter2");
    const result = toStowageError(original);
    assert.equal(result.code, "INTERNAL");
    assert.equal(result.status, 500);
    assert.ok(!result.message.includes("hunter2"));
    assert.ok(!result.message.includes("ECONNREFUSED"));
    assert.equal(result.details, undefined);
    assert.equal(result.cause, original, "kept as cause for the server log");
  });

  it("maps thrown non-errors to INTERNAL", () => {
    for (const value of ["boom", 42, null, undefined]) {
      assert.equal(toStowageError(value).code, "INTERNAL", String(value));
    }
  });
});

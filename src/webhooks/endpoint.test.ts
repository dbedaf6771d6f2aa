import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { endpointWants, type WebhookEndpoint, webhookUrlProblem } from "./endpoint.js";

const base: WebhookEndpoint = { id: "e", url: "https://x.example/h", secrets: [], events: undefined, ownerTypes: undefined, timeoutSeconds: 10 };

describe("endpointWants", () => {
  it("takes every event unless events or ownerTypes narrow it", () => {
    assert.equal(endpointWants(base, { type: "upload.deleted", ownerType: "avatar" }), true);
    const narrow = { ...base, events: ["upload.confirmed"] as const, ownerTypes: ["document"] };
    assert.equal(endpointWants(narrow, { type: "upload.confirmed", ownerType: "document" }), true);
    assert.equal(endpointWants(narrow, { type: "upload.deleted", ownerType: "document" }), false);
    assert.equal(endpointWants(narrow, { type: "upload.confirmed", ownerType: "avatar" }), false);
  });
});

describe("webhookUrlProblem", () => {
  it("takes http(s) URLs on ordinary ports", () => {
    for (const url of ["https://x.example/h?a=1", "http://127.0.0.1:8080/", "http://[::1]:3000/hooks"]) assert.equal(webhookUrlProblem(url), undefined);
  });
});

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { LocalDriver } from "./local/local-driver.js";
import { S3Driver, type S3DriverOptions } from "./s3/s3-driver.js";

const credentials = { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "secret" };
const s3 = (options: Partial<S3DriverOptions>) =>
  new S3Driver({
    region: "eu-west-1",
    forcePathStyle: false,
    credentials,
    postPolicy: false,
    conditionalWrites: true,
    buckets: {
      public: { name: "media", public: true, publicBaseUrl: "https://cdn.example.com/media/" },
      private: { name: "media", public: false },
      compliance: { name: "records", public: false },
    },
    ...options,
  });

describe("browserOrigins: where a page's uploads and downloads go", () => {
  it("S3 virtual-hosted (AWS): each real bucket's host once, and the CDN", () => {
    assert.deepEqual(s3({}).browserOrigins(), [
      "https://media.s3.eu-west-1.amazonaws.com",
      "https://records.s3.eu-west-1.amazonaws.com",
      "https://cdn.example.com",
    ]);
  });

  it("S3 path-style: the endpoint browsers resolve (the public one when set), with its port", () => {
    const driver = s3({ endpoint: "http://minio:9000", publicEndpoint: "https://s3.example.com:8443/", forcePathStyle: true });
    assert.deepEqual(driver.browserOrigins(), ["https://s3.example.com:8443", "https://cdn.example.com"]);
  });

  it("local disk: this instance's base URL, and a public bucket's CDN", () => {
    const local = new LocalDriver({
      root: "/nonexistent",
      baseUrl: "http://127.0.0.1:8080",
      signingSecret: "s".repeat(32),
      buckets: { public: { public: true, publicBaseUrl: "https://cdn.example.com/x" }, private: { public: false } },
    });
    assert.deepEqual(local.browserOrigins(), ["http://127.0.0.1:8080", "https://cdn.example.com"]);
  });
});

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseStorage } from "./storage.js";
import type { StorageConfig } from "./storage.js";

function parse(env: Record<string, string>): { config: StorageConfig; problems: string[] } {
  const problems: string[] = [];
  const config = parseStorage(env, problems);
  return { config, problems };
}

/** The S3 branch of a config, failing the test when it is local. */
function s3(config: StorageConfig): Extract<StorageConfig, { kind: "s3" }> {
  assert.equal(config.kind, "s3");
  if (config.kind !== "s3") throw new Error("unreachable");
  return config;
}

const R2 = {
  R2_ENABLED: "true",
  R2_ENDPOINT_URL: "https://0123456789abcdef.r2.cloudflarestorage.com",
  R2_ACCESS_KEY_ID: "r2-key",
  R2_SECRET_ACCESS_KEY: "r2-secret",
  R2_BUCKET_NAME: "acme-media",
  R2_COMPLIANCE_BUCKET_NAME: "acme-signed-pdfs",
};

const MINIO = {
  MINIO_ENDPOINT: "minio:9000",
  MINIO_PUBLIC_ENDPOINT: "https://files.acme.com",
  MINIO_ACCESS_KEY: "minio-key",
  MINIO_SECRET_KEY: "minio-secret",
  MINIO_BUCKET: "media",
};

describe("parseStorage", () => {
  it("defaults to local storage", () => {
    assert.deepEqual(parse({}), { config: { kind: "local" }, problems: [] });
    assert.deepEqual(parse({ STOWAGE_STORAGE: "local" }), { config: { kind: "local" }, problems: [] });
    assert.deepEqual(parse({ STOWAGE_STORAGE: "" }), { config: { kind: "local" }, problems: [] });
  });

  it("maps STOWAGE_STORAGE=s3 and the STOWAGE_S3_* settings", () => {
    const { config, problems } = parse({
      STOWAGE_STORAGE: "s3",
      STOWAGE_S3_ENDPOINT: "https://s3.example.com/",
      STOWAGE_S3_PUBLIC_ENDPOINT: "https://files.example.com",
      STOWAGE_S3_REGION: "eu-central-1",
      STOWAGE_S3_ACCESS_KEY_ID: "key",
      STOWAGE_S3_SECRET_ACCESS_KEY: "secret",
      STOWAGE_S3_BUCKET: "acme-media",
      STOWAGE_S3_COMPLIANCE_BUCKET: "acme-signed-pdfs",
    });
    assert.deepEqual(problems, []);
    assert.deepEqual(config, {
      kind: "s3",
      via: "stowage",
      endpoint: "https://s3.example.com",
      publicEndpoint: "https://files.example.com",
      region: "eu-central-1",
      forcePathStyle: true,
      credentials: { accessKeyId: "key", secretAccessKey: "secret" },
      bucket: "acme-media",
      complianceBucket: "acme-signed-pdfs",
      postPolicy: false,
      conditionalWrites: true,
    });
  });

  it("honours the explicit flags", () => {
    const { config, problems } = parse({
      STOWAGE_STORAGE: "s3",
      STOWAGE_S3_BUCKET: "acme-media",
      STOWAGE_S3_ENDPOINT: "https://s3.example.com",
      STOWAGE_S3_FORCE_PATH_STYLE: "false",
      STOWAGE_S3_POST_POLICY: "no",
      STOWAGE_S3_CONDITIONAL_WRITES: "0",
    });
    assert.deepEqual(problems, []);
    const c = s3(config);
    assert.equal(c.forcePathStyle, false);
    assert.equal(c.postPolicy, false);
    assert.equal(c.conditionalWrites, false);
  });

  it("uses the AWS credential chain and virtual-hosted style with only a bucket", () => {
    const { config, problems } = parse({ STOWAGE_STORAGE: "s3", STOWAGE_S3_BUCKET: "acme-media" });
    assert.deepEqual(problems, []);
    const c = s3(config);
    assert.equal(c.credentials, undefined);
    assert.equal(c.forcePathStyle, false);
    assert.equal(c.endpoint, undefined);
    assert.equal(c.publicEndpoint, undefined);
    assert.equal(c.region, "us-east-1");
    assert.equal(c.complianceBucket, "acme-media");
    assert.equal(c.postPolicy, false, "POST forms are opt-in: they cannot be made single-use");
    assert.equal(s3(parse({ STOWAGE_STORAGE: "s3", STOWAGE_S3_BUCKET: "acme-media", STOWAGE_S3_POST_POLICY: "true" }).config).postPolicy, true);
  });

  it("takes the region from AWS_REGION when STOWAGE_S3_REGION is not set", () => {
    const { config } = parse({ STOWAGE_STORAGE: "s3", STOWAGE_S3_BUCKET: "acme-media", AWS_REGION: "ap-south-1" });
    assert.equal(s3(config).region, "ap-south-1");
  });

  it("maps an R2 deployment's settings: region auto, path style, no POST policies", () => {
    const { config, problems } = parse(R2);
    assert.deepEqual(problems, []);
    assert.deepEqual(config, {
      kind: "s3",
      via: "r2",
      endpoint: "https://0123456789abcdef.r2.cloudflarestorage.com",
      publicEndpoint: undefined,
      region: "auto",
      forcePathStyle: true,
      credentials: { accessKeyId: "r2-key", secretAccessKey: "r2-secret" },
      bucket: "acme-media",
      complianceBucket: "acme-signed-pdfs",
      postPolicy: false,
      conditionalWrites: true,
    });
  });

  it("accepts R2_ENABLED spelled 1 or TRUE", () => {
    for (const value of ["1", "TRUE", "yes"]) {
      assert.equal(s3(parse({ ...R2, R2_ENABLED: value }).config).via, "r2", value);
    }
    assert.equal(parse({ ...R2, R2_ENABLED: "false" }).config.kind, "local");
  });

  it("reports every missing R2 setting in exactly one problem", () => {
    const { R2_ACCESS_KEY_ID: _key, R2_BUCKET_NAME: _bucket, ...partial } = R2;
    const { problems } = parse(partial);
    assert.equal(problems.length, 1, problems.join("\n"));
    assert.match(problems[0] ?? "", /R2_ACCESS_KEY_ID/);
    assert.match(problems[0] ?? "", /R2_BUCKET_NAME/);
    assert.doesNotMatch(problems[0] ?? "", /R2_SECRET_ACCESS_KEY|R2_ENDPOINT_URL/);

    const bare = parse({ R2_ENABLED: "true" });
    assert.equal(bare.problems.length, 1, bare.problems.join("\n"));
    for (const name of ["R2_ACCESS_KEY_ID", "R2_SECRET_ACCESS_KEY", "R2_BUCKET_NAME", "R2_ENDPOINT_URL"]) {
      assert.ok(bare.problems[0]?.includes(name), `${name} not named in: ${bare.problems[0]}`);
    }
  });

  it("maps a MinIO deployment's settings, adding http:// to a bare host:port", () => {
    const { config, problems } = parse(MINIO);
    assert.deepEqual(problems, []);
    assert.deepEqual(config, {
      kind: "s3",
      via: "minio",
      endpoint: "http://minio:9000",
      publicEndpoint: "https://files.acme.com",
      region: "us-east-1",
      forcePathStyle: true,
      credentials: { accessKeyId: "minio-key", secretAccessKey: "minio-secret" },
      bucket: "media",
      complianceBucket: "media",
      postPolicy: false,
      conditionalWrites: true,
    });
  });

  it("reports missing MinIO settings in one problem", () => {
    const { problems } = parse({ MINIO_ENDPOINT: "minio:9000", MINIO_ACCESS_KEY: "k" });
    assert.equal(problems.length, 1, problems.join("\n"));
    assert.match(problems[0] ?? "", /MINIO_SECRET_KEY.*MINIO_BUCKET|MINIO_BUCKET.*MINIO_SECRET_KEY/);
  });

  it("turns POST policies off for an R2 endpoint given as STOWAGE_S3_ENDPOINT", () => {
    const { config, problems } = parse({
      STOWAGE_STORAGE: "s3",
      STOWAGE_S3_ENDPOINT: "https://0123456789abcdef.r2.cloudflarestorage.com",
      STOWAGE_S3_BUCKET: "acme-media",
      STOWAGE_S3_POST_POLICY: "true",
    });
    assert.deepEqual(problems, []);
    const c = s3(config);
    assert.equal(c.postPolicy, false);
    assert.equal(c.via, "stowage");
    assert.equal(c.forcePathStyle, true);
    const eu = parse({ STOWAGE_STORAGE: "s3", STOWAGE_S3_ENDPOINT: "https://acct.eu.r2.cloudflarestorage.com", STOWAGE_S3_BUCKET: "acme-media", STOWAGE_S3_POST_POLICY: "true" });
    assert.equal(s3(eu.config).postPolicy, false);
  });

  it("recognizes an R2 endpoint whatever the case of its host name", () => {
    // Host names are case-insensitive: this is the same R2 endpoint.
    const { config } = parse({
      STOWAGE_STORAGE: "s3",
      STOWAGE_S3_ENDPOINT: "https://0123456789ABCDEF.R2.CloudflareStorage.com",
      STOWAGE_S3_BUCKET: "acme-media",
      STOWAGE_S3_POST_POLICY: "true",
    });
    assert.equal(s3(config).postPolicy, false);
  });

  it("reports only one of access key and secret", () => {
    for (const half of [{ STOWAGE_S3_ACCESS_KEY_ID: "key" }, { STOWAGE_S3_SECRET_ACCESS_KEY: "secret" }]) {
      const { config, problems } = parse({ STOWAGE_STORAGE: "s3", STOWAGE_S3_BUCKET: "acme-media", ...half });
      assert.equal(problems.length, 1, problems.join("\n"));
      assert.match(problems[0] ?? "", /STOWAGE_S3_ACCESS_KEY_ID/);
      assert.match(problems[0] ?? "", /STOWAGE_S3_SECRET_ACCESS_KEY/);
      assert.equal(s3(config).credentials, undefined);
    }
  });

  it("reports invalid bucket names", () => {
    for (const bad of ["My_Bucket", "ab", "-acme", "acme-", "a".repeat(64)]) {
      const { problems } = parse({ STOWAGE_STORAGE: "s3", STOWAGE_S3_BUCKET: bad });
      assert.ok(
        problems.some((p) => p.includes(`STOWAGE_S3_BUCKET '${bad}'`) && p.includes("not a valid bucket name")),
        `${bad}: ${problems.join("\n")}`,
      );
    }
    const compliance = parse({ STOWAGE_STORAGE: "s3", STOWAGE_S3_BUCKET: "acme-media", STOWAGE_S3_COMPLIANCE_BUCKET: "Bad Bucket" });
    assert.equal(compliance.problems.length, 1);
    assert.match(compliance.problems[0] ?? "", /STOWAGE_S3_COMPLIANCE_BUCKET/);
    assert.deepEqual(parse({ STOWAGE_STORAGE: "s3", STOWAGE_S3_BUCKET: "abc" }).problems, []);
    assert.deepEqual(parse({ STOWAGE_STORAGE: "s3", STOWAGE_S3_BUCKET: "a".repeat(63) }).problems, []);
  });

  it("reports a bad bucket name once, not again as the compliance bucket it defaults to", () => {
    const { problems } = parse({ STOWAGE_STORAGE: "s3", STOWAGE_S3_BUCKET: "My_Bucket" });
    assert.deepEqual(problems, ["STOWAGE_S3_BUCKET 'My_Bucket' is not a valid bucket name"]);
  });

  it("names the setting actually used in a bad-bucket problem (R2_BUCKET_NAME)", () => {
    const { problems } = parse({ ...R2, R2_BUCKET_NAME: "Acme_Media" });
    assert.equal(problems.length, 1, problems.join("\n"));
    assert.match(problems[0] ?? "", /R2_BUCKET_NAME/);
  });

  it("reports an unknown STOWAGE_STORAGE", () => {
    const { config, problems } = parse({ STOWAGE_STORAGE: "ftp" });
    assert.equal(problems.length, 1);
    assert.match(problems[0] ?? "", /STOWAGE_STORAGE/);
    assert.match(problems[0] ?? "", /ftp/);
    assert.equal(config.kind, "local");
  });

  it("reports STOWAGE_STORAGE=s3 without a bucket", () => {
    const { problems } = parse({ STOWAGE_STORAGE: "s3" });
    assert.equal(problems.length, 1);
    assert.match(problems[0] ?? "", /STOWAGE_S3_BUCKET/);
  });

  it("reports a flag that is neither true nor false", () => {
    const { config, problems } = parse({ STOWAGE_STORAGE: "s3", STOWAGE_S3_BUCKET: "acme-media", STOWAGE_S3_FORCE_PATH_STYLE: "maybe" });
    assert.equal(problems.length, 1);
    assert.match(problems[0] ?? "", /STOWAGE_S3_FORCE_PATH_STYLE/);
    assert.match(problems[0] ?? "", /maybe/);
    assert.equal(s3(config).forcePathStyle, false);
  });

  it("reports an endpoint that is not a URL", () => {
    const { problems } = parse({ STOWAGE_STORAGE: "s3", STOWAGE_S3_BUCKET: "acme-media", STOWAGE_S3_ENDPOINT: "http://exa mple.com" });
    assert.equal(problems.length, 1);
    assert.match(problems[0] ?? "", /STOWAGE_S3_ENDPOINT/);
  });

  it("prefers Stowage's own names over the R2 and MinIO ones", () => {
    const { config } = parse({ ...R2, STOWAGE_S3_BUCKET: "own-bucket", STOWAGE_S3_REGION: "weur" });
    const c = s3(config);
    assert.equal(c.bucket, "own-bucket");
    assert.equal(c.region, "weur");
  });
});

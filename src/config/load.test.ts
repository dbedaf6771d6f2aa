import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, it } from "node:test";
import { ConfigError } from "../errors.js";
import { loadConfig, redactConfig } from "./load.js";
import { NO_SECRETS, SERVE_SECRETS, TOKEN_SECRETS } from "./secrets.js";

let cwd: string;
beforeEach(() => {
  cwd = mkdtempSync(join(tmpdir(), "stowage-config-"));
});
afterEach(() => {
  rmSync(cwd, { recursive: true, force: true });
});

const SECRET_A = "a".repeat(32);
const SECRET_B = "b".repeat(40);

function problemsOf(env: Record<string, string>, secrets = SERVE_SECRETS): readonly string[] {
  try {
    loadConfig(env, cwd, secrets);
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    return error.problems;
  }
  assert.fail("loadConfig did not throw");
}

function writeConfigFile(content: unknown): void {
  writeFileSync(join(cwd, "stowage.config.json"), JSON.stringify(content));
}

describe("loadConfig defaults", () => {
  it("uses the documented defaults with an empty environment", () => {
    const config = loadConfig({}, cwd);
    assert.equal(config.port, 8080);
    assert.equal(config.host, "127.0.0.1");
    assert.equal(config.baseUrl, "http://127.0.0.1:8080");
    assert.equal(config.dataDir, join(cwd, ".stowage-data"));
    assert.deepEqual(config.database, {
      kind: "sqlite",
      file: join(cwd, ".stowage-data", "stowage.db"),
    });
    assert.deepEqual(config.policies.map((p) => p.ownerType).sort(), [
      "avatar",
      "chat_upload",
      "document",
      "signed_pdf",
      "voice_note",
    ]);
    assert.equal(config.configFile, undefined);
  });

  it("generates secrets into 0600 files and reuses them on the next load", () => {
    const first = loadConfig({}, cwd, SERVE_SECRETS);
    const files = [
      join(cwd, ".stowage-data", "jwt-secret"),
      join(cwd, ".stowage-data", "signing-secret"),
    ];
    assert.deepEqual([...first.generatedSecretFiles].sort(), files);
    for (const file of files) {
      assert.equal(statSync(file).mode & 0o777, 0o600, file);
    }
    assert.ok(first.jwt.kind === "secret");
    assert.equal(first.jwt.secret, readFileSync(files[0] ?? "", "utf8").trim());
    assert.equal(first.signingSecret, readFileSync(files[1] ?? "", "utf8").trim());
    assert.ok(first.signingSecret.length >= 32);

    assert.equal(first.jwtSecretFile, files[0]);
    assert.equal(statSync(join(cwd, ".stowage-data")).mode & 0o777, 0o700);

    const second = loadConfig({}, cwd, SERVE_SECRETS);
    assert.deepEqual(second.generatedSecretFiles, []);
    assert.equal(second.signingSecret, first.signingSecret);
    assert.deepEqual(second.jwt, first.jwt);
    assert.equal(second.jwtSecretFile, files[0]);
  });

  it("serves the upload page from this package's dist/page unless STOWAGE_UPLOAD_PAGE says no; off by default in production", () => {
    const root = fileURLToPath(new URL("../..", import.meta.url));
    assert.deepEqual(loadConfig({}, cwd).uploadPage, { enabled: true, dir: join(root, "dist", "page") });
    assert.equal(loadConfig({ STOWAGE_UPLOAD_PAGE: "false" }, cwd).uploadPage.enabled, false);
    const production = { NODE_ENV: "production", STOWAGE_JWT_SECRET: SECRET_A, STOWAGE_SIGNING_SECRET: SECRET_B };
    assert.equal(loadConfig(production, cwd).uploadPage.enabled, false);
    assert.equal(loadConfig({ ...production, STOWAGE_UPLOAD_PAGE: "on" }, cwd).uploadPage.enabled, true);
    assert.deepEqual(problemsOf({ STOWAGE_UPLOAD_PAGE: "maybe" }), ["STOWAGE_UPLOAD_PAGE must be true or false (got 'maybe')"]);
  });
});

describe("loadConfig secrets by command", () => {
  const dataDir = () => join(cwd, ".stowage-data");

  it("token (read): no secret found is an error naming the file and both variables, and creates nothing", () => {
    const problems = problemsOf({}, TOKEN_SECRETS);
    assert.equal(problems.length, 1, JSON.stringify(problems));
    assert.match(problems[0] ?? "", new RegExp(`no STOWAGE_JWT_SECRET is set and there is no secret at ${join(dataDir(), "jwt-secret")}`));
    assert.match(problems[0] ?? "", /STOWAGE_DATA_DIR/);
    assert.equal(existsSync(dataDir()), false, "token created the data directory");
  });

  it("token (read): uses the secret serve generated, and needs no signing secret", () => {
    const served = loadConfig({}, cwd, SERVE_SECRETS);
    rmSync(join(dataDir(), "signing-secret"));
    const token = loadConfig({}, cwd, TOKEN_SECRETS);
    assert.deepEqual(token.jwt, served.jwt);
    assert.deepEqual(token.generatedSecretFiles, []);
    assert.equal(existsSync(join(dataDir(), "signing-secret")), false, "token created the signing secret");
  });

  it("token (read): the environment's secret, without any file", () => {
    const config = loadConfig({ STOWAGE_JWT_SECRET: SECRET_A }, cwd, TOKEN_SECRETS);
    assert.ok(config.jwt.kind === "secret");
    assert.equal(config.jwt.secret, SECRET_A);
    assert.equal(config.jwtSecretFile, undefined);
    assert.equal(existsSync(dataDir()), false);
  });

  it("refuses a secret file too short to be one, naming it", () => {
    mkdirSync(dataDir());
    writeFileSync(join(dataDir(), "jwt-secret"), "short\n");
    for (const secrets of [TOKEN_SECRETS, SERVE_SECRETS]) {
      const problems = problemsOf({}, secrets);
      assert.ok(problems.some((p) => p.startsWith(`${join(dataDir(), "jwt-secret")} holds a secret shorter than 32`)), JSON.stringify(problems));
    }
  });

  it("migrate and the other commands (none): read and create no secret, even in production", () => {
    mkdirSync(dataDir());
    writeFileSync(join(dataDir(), "jwt-secret"), `${SECRET_A}\n`);
    const config = loadConfig({ STOWAGE_SIGNING_SECRET: SECRET_B }, cwd, NO_SECRETS);
    assert.ok(config.jwt.kind === "secret");
    assert.notEqual(config.jwt.secret, SECRET_A, "read the JWT secret file");
    assert.notEqual(config.signingSecret, SECRET_B, "read the signing secret from the environment");
    assert.ok(config.signingSecret.length >= 32);
    assert.equal(existsSync(join(dataDir(), "signing-secret")), false, "created a secret file");
    assert.doesNotThrow(() => loadConfig({ NODE_ENV: "production" }, cwd, NO_SECRETS));
  });
});

describe("loadConfig problems", () => {
  it("lists every bad value at once", () => {
    const problems = problemsOf({
      STOWAGE_PORT: "abc",
      STOWAGE_DEFAULT_QUOTA_BYTES: "-1",
      LOG_LEVEL: "loud",
      DATABASE_URL: "mysql://x",
    });
    for (const name of [
      "STOWAGE_PORT",
      "STOWAGE_DEFAULT_QUOTA_BYTES",
      "LOG_LEVEL",
      "DATABASE_URL",
    ]) {
      assert.ok(
        problems.some((p) => p.includes(name)),
        `${name} in ${JSON.stringify(problems)}`,
      );
    }
    assert.equal(problems.length, 4);
  });

  it("reads STOWAGE_TRUST_PROXY as none, any, a hop count or proxy addresses, and refuses anything else", () => {
    const read = (value: string | undefined) => loadConfig(value === undefined ? {} : { STOWAGE_TRUST_PROXY: value }, cwd).trustProxy;
    assert.equal(read(undefined), false);
    assert.equal(read("true"), true);
    assert.equal(read("2"), 2);
    assert.deepEqual(read("10.0.0.0/8, 127.0.0.1,::1"), ["10.0.0.0/8", "127.0.0.1", "::1"]);
    for (const bad of ["yes please", "10.0.0.0/8/1", "proxy.internal", "10.0.0.1/abc"]) {
      assert.ok(problemsOf({ STOWAGE_TRUST_PROXY: bad }).some((p) => p.startsWith("STOWAGE_TRUST_PROXY")), bad);
    }
  });

  it("does not read a whitespace-only number as 0", () => {
    // Number(" ") === 0: a stray space must not silently mean "random port" or "no quota".
    const problems = problemsOf({ STOWAGE_PORT: " ", STOWAGE_DEFAULT_QUOTA_BYTES: "\t" });
    assert.ok(
      problems.some((p) => p.includes("STOWAGE_PORT")),
      JSON.stringify(problems),
    );
    assert.ok(problems.some((p) => p.includes("STOWAGE_DEFAULT_QUOTA_BYTES")));
  });

  it("requires both secrets in production, naming each", () => {
    const problems = problemsOf({ NODE_ENV: "production" });
    assert.ok(problems.some((p) => p.includes("STOWAGE_JWT_SECRET")));
    assert.ok(problems.some((p) => p.includes("STOWAGE_SIGNING_SECRET")));
  });

  it("accepts long secrets in production without writing files", () => {
    const env = {
      NODE_ENV: "production",
      STOWAGE_JWT_SECRET: SECRET_A,
      STOWAGE_SIGNING_SECRET: SECRET_B,
    };
    const config = loadConfig(env, cwd, SERVE_SECRETS);
    assert.equal(config.signingSecret, SECRET_B);
    assert.deepEqual(config.generatedSecretFiles, []);
  });

  it("refuses a short secret", () => {
    const problems = problemsOf({ STOWAGE_SIGNING_SECRET: "a".repeat(31) });
    assert.deepEqual(problems, ["STOWAGE_SIGNING_SECRET must be at least 32 characters"]);
  });
});

describe("loadConfig config file", () => {
  it("merges overrides and new owner types over the built-ins", () => {
    writeConfigFile({
      policies: {
        avatar: { maxBytes: 123 },
        invoice: {
          allowedTypes: ["Application/PDF"],
          maxBytes: 1000,
          urlTtlSeconds: 60,
          keyTemplate: "invoices/{userId}/{id}.{ext}",
          bucket: "private",
          visibility: "private",
        },
      },
    });
    const config = loadConfig({}, cwd);
    const avatar = config.policies.find((p) => p.ownerType === "avatar");
    assert.equal(avatar?.maxBytes, 123);
    assert.equal(avatar?.keyTemplate, "avatars/{userId}/{id}.{ext}"); // untouched fields kept
    const invoice = config.policies.find((p) => p.ownerType === "invoice");
    assert.deepEqual(invoice?.allowedTypes, ["application/pdf"]);
    assert.equal(invoice?.cacheControl, "private, max-age=86400");
    assert.equal(config.policies.length, 6);
    assert.equal(config.configFile, join(cwd, "stowage.config.json"));
  });

  it("refuses a public policy on a private bucket", () => {
    writeConfigFile({ policies: { document: { visibility: "public" } } });
    assert.deepEqual(problemsOf({}), ["policy 'document' is public but bucket 'private' is not"]);
  });

  it("refuses an unknown key template variable", () => {
    writeConfigFile({ policies: { avatar: { keyTemplate: "a/{tenant}/{id}" } } });
    assert.deepEqual(problemsOf({}), ["policy 'avatar': keyTemplate unknown variable {tenant}"]);
  });

  it("gives the built-in avatar a 256×256 WebP thumbnail, and no other policy derivatives", () => {
    const config = loadConfig({}, cwd);
    const avatar = config.policies.find((p) => p.ownerType === "avatar");
    assert.deepEqual(avatar?.derivatives, { thumb: { width: 256, height: 256, fit: "cover", format: "webp" } });
    assert.deepEqual(config.policies.filter((p) => p.derivatives !== undefined).map((p) => p.ownerType), ["avatar"]);
  });

  it("takes derivatives from the file, replacing the built-in's presets as a whole", () => {
    writeConfigFile({
      policies: {
        avatar: { derivatives: { small: { width: 64, height: 64, fit: "cover", format: "avif", quality: 40 } } },
        document: { derivatives: { preview: { width: 1024, height: 1024, fit: "inside", format: "jpeg" } } },
        chat_upload: { derivatives: {} },
      },
    });
    const config = loadConfig({}, cwd);
    const byType = new Map(config.policies.map((p) => [p.ownerType, p]));
    assert.deepEqual(byType.get("avatar")?.derivatives, { small: { width: 64, height: 64, fit: "cover", format: "avif", quality: 40 } });
    // A PDF-or-image policy may have derivatives: its images get them, its PDFs do not.
    assert.deepEqual(Object.keys(byType.get("document")?.derivatives ?? {}), ["preview"]);
    assert.deepEqual(byType.get("chat_upload")?.derivatives, {});
    writeConfigFile({ policies: { avatar: { derivatives: {} } } });
    assert.deepEqual(loadConfig({}, cwd).policies.find((p) => p.ownerType === "avatar")?.derivatives, {});
  });

  it("refuses derivatives on a policy with no raster image type, naming the policy", () => {
    const thumb = { width: 256, height: 256, fit: "cover", format: "webp" };
    writeConfigFile({
      policies: {
        signed_pdf: { derivatives: { thumb } },
        logo: {
          allowedTypes: ["image/svg+xml"],
          maxBytes: 1000,
          urlTtlSeconds: 60,
          keyTemplate: "logos/{id}.svg",
          bucket: "public",
          visibility: "public",
          derivatives: { thumb },
        },
        // HEIC is an image, but not one the bundled libvips can decode.
        photo: { allowedTypes: ["image/heic"], maxBytes: 1000, urlTtlSeconds: 60, keyTemplate: "p/{id}", bucket: "private", visibility: "private", derivatives: { thumb } },
      },
    });
    const problems = problemsOf({});
    assert.equal(problems.length, 3, JSON.stringify(problems));
    assert.match(problems[0] ?? "", /^policy 'signed_pdf': derivatives need an allowed type they can be made from \(image\/jpeg, .*\); allowedTypes has none$/);
    assert.match(problems[1] ?? "", /^policy 'logo': derivatives need .* \(image\/svg\+xml is never read as an image\)$/);
    assert.match(problems[2] ?? "", /^policy 'photo': derivatives need/);
    // The same policy turned to a raster type is fine.
    writeConfigFile({ policies: { signed_pdf: { allowedTypes: ["application/pdf", "image/png"], derivatives: { thumb } } } });
    assert.doesNotThrow(() => loadConfig({}, cwd));
  });

  it("refuses bad presets in the file: names, sizes, fits, formats, quality, count", () => {
    const ok = { width: 256, height: 256, fit: "cover", format: "webp" };
    const cases: [unknown, RegExp][] = [
      [{ Thumb: ok }, /\/policies\/avatar\/derivatives/],
      [{ "../x": ok }, /\/policies\/avatar\/derivatives/],
      [{ ["t".repeat(33)]: ok }, /\/policies\/avatar\/derivatives/],
      [{ thumb: { ...ok, width: 0 } }, /\/policies\/avatar\/derivatives\/thumb\/width/],
      [{ thumb: { ...ok, height: 4097 } }, /\/policies\/avatar\/derivatives\/thumb\/height/],
      [{ thumb: { ...ok, width: 25.5 } }, /\/policies\/avatar\/derivatives\/thumb\/width/],
      [{ thumb: { ...ok, fit: "fill" } }, /\/policies\/avatar\/derivatives\/thumb\/fit/],
      [{ thumb: { ...ok, format: "gif" } }, /\/policies\/avatar\/derivatives\/thumb\/format/],
      [{ thumb: { ...ok, format: "svg" } }, /\/policies\/avatar\/derivatives\/thumb\/format/],
      [{ thumb: { ...ok, quality: 101 } }, /\/policies\/avatar\/derivatives\/thumb\/quality/],
      [{ thumb: { ...ok, withMetadata: true } }, /\/policies\/avatar\/derivatives\/thumb /],
      [Object.fromEntries(Array.from({ length: 9 }, (_, i) => [`t${i}`, ok])), /\/policies\/avatar\/derivatives .*8/],
    ];
    for (const [derivatives, expected] of cases) {
      writeConfigFile({ policies: { avatar: { derivatives } } });
      const problems = problemsOf({});
      assert.ok(problems.length > 0 && problems.every((p) => expected.test(p)), `${JSON.stringify(derivatives)}: ${JSON.stringify(problems)}`);
    }
  });

  it("refuses a key template starting with '.', where derivatives are kept", () => {
    writeConfigFile({ policies: { avatar: { keyTemplate: ".derivatives/{id}/thumb.webp" } } });
    assert.deepEqual(problemsOf({}), ["policy 'avatar': keyTemplate may not start with '.': such keys are Stowage's own (derivatives, probes)"]);
  });

  it("refuses an unknown field", () => {
    writeConfigFile({ policies: { avatar: { maxSize: 10 } } });
    const problems = problemsOf({});
    assert.equal(problems.length, 1);
    assert.match(problems[0] ?? "", /\/policies\/avatar .*additional properties/);
  });
});

describe("redactConfig", () => {
  it("never contains secret values", () => {
    const config = loadConfig(
      { STOWAGE_JWT_SECRET: SECRET_A, STOWAGE_SIGNING_SECRET: SECRET_B },
      cwd,
      SERVE_SECRETS,
    );
    const json = JSON.stringify(redactConfig(config));
    assert.ok(!json.includes(SECRET_A), "JWT secret leaked");
    assert.ok(!json.includes(SECRET_B), "signing secret leaked");
    assert.ok(json.includes("[redacted]"));
    assert.ok(json.includes("\"port\":8080"), "the rest of the config is kept");
  });

  it("never contains generated secret values", () => {
    const config = loadConfig({}, cwd, SERVE_SECRETS);
    const json = JSON.stringify(redactConfig(config));
    assert.ok(config.jwt.kind === "secret");
    assert.ok(!json.includes(config.jwt.secret), "JWT secret leaked");
    assert.ok(!json.includes(config.signingSecret), "signing secret leaked");
  });
});

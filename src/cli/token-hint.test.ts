import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { shellQuote, tokenHint } from "./token-hint.js";

const root = "/home/me/stowage";
const jwt = { kind: "secret" as const, secret: "s".repeat(32), issuer: undefined, audience: undefined };

describe("tokenHint", () => {
  it("is the README's command for the default data dir, run from the project root", () => {
    const config = { dataDir: `${root}/.stowage-data`, jwt, jwtSecretFile: `${root}/.stowage-data/jwt-secret` };
    assert.equal(tokenHint(config, { projectRoot: root, cwd: root }), "TOKEN=$(npm run -s stowage -- token --user alice)");
  });

  it("names another data dir, the issuer and audience, and the project when serve runs elsewhere", () => {
    const config = {
      dataDir: "/srv/my data",
      jwt: { ...jwt, issuer: "https://id.example.com", audience: "media api" },
      jwtSecretFile: "/srv/my data/jwt-secret",
    };
    assert.equal(
      tokenHint(config, { projectRoot: root, cwd: "/srv" }),
      "TOKEN=$(STOWAGE_DATA_DIR='/srv/my data' STOWAGE_JWT_ISSUER=https://id.example.com " +
      `STOWAGE_JWT_AUDIENCE='media api' npm --prefix ${root} run -s stowage -- token --user alice)`,
    );
  });

  it("says a secret from the environment is needed, in a shell comment", () => {
    const config = { dataDir: "/srv/data", jwt, jwtSecretFile: undefined };
    assert.equal(
      tokenHint(config, { projectRoot: root, cwd: root }),
      "TOKEN=$(npm run -s stowage -- token --user alice)   # needs this server's STOWAGE_JWT_SECRET",
    );
  });
});

describe("shellQuote", () => {
  it("leaves plain words alone and single-quotes the rest", () => {
    assert.equal(shellQuote("/tmp/a-b_c.d"), "/tmp/a-b_c.d");
    assert.equal(shellQuote("it's $HOME"), "'it'\\''s $HOME'");
  });
});

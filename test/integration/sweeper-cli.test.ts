import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { GetBucketLifecycleConfigurationCommand, PutBucketLifecycleConfigurationCommand } from "@aws-sdk/client-s3";
import { runStowage, spawnStowage } from "../helpers/cli.js";
import { PDF } from "../helpers/fixtures.js";
import { presignAndPut } from "../helpers/flow.js";
import { adminClient, stowageS3Env, tempBucket } from "../helpers/s3.js";
import { freePort, JWT_SECRET, startStowage, type TestServer } from "../helpers/server.js";
import { objectExists, statusOf, sweepConfigFile, untimed } from "../helpers/sweep.js";

const SIGNING_SECRET = "test-signing-secret-that-is-long-enough-0123";

/** Runs the real `stowage` command to completion. */
const run = (args: string[], env: Record<string, string>) => runStowage(args, { LOG_LEVEL: "warn", ...env });
const stowage = (args: string[], env: Record<string, string>) => spawnStowage(args, { LOG_LEVEL: "warn", ...env });

describe("stowage sweep and stowage lifecycle against S3 (Ceph RGW)", () => {
  let media: Awaited<ReturnType<typeof tempBucket>>;
  let compliance: Awaited<ReturnType<typeof tempBucket>>;
  let server: TestServer;
  let env: Record<string, string>;
  before(async () => {
    [media, compliance] = await Promise.all([tempBucket("stowage-sweep-cli"), tempBucket("stowage-sweep-cli")]);
    // URLs that expire in seconds and no grace: the CLI runs on the real clock.
    const config = sweepConfigFile({ document: { urlTtlSeconds: 3 } });
    const settings = { ...stowageS3Env(media.name, compliance.name), STOWAGE_CONFIG_FILE: config, STOWAGE_SWEEP_ABANDONED_GRACE_SECONDS: "0" };
    server = await startStowage(settings);
    env = { ...settings, STOWAGE_DATA_DIR: server.dataDir, STOWAGE_JWT_SECRET: JWT_SECRET, STOWAGE_SIGNING_SECRET: SIGNING_SECRET };
  });
  after(async () => {
    await server.close();
    await Promise.all([media.drop(), compliance.drop()]);
  });

  it("sweep --dry-run lists an abandoned upload and changes nothing; sweep then expires it", async () => {
    const up = await presignAndPut(server, "cli", PDF, { contentType: "application/pdf" });
    await new Promise((resolve) => setTimeout(resolve, 3500));

    const dry = await run(["sweep", "--dry-run", "--json"], env);
    assert.equal(dry.code, 0, dry.stderr);
    const listed = JSON.parse(dry.stdout);
    assert.equal(listed.dryRun, true);
    // Its URL expired: its reservation would go back first, then the upload itself past the grace.
    assert.deepEqual(listed.items.map((i: { action: string; key: string }) => `${i.action} ${i.key}`), [`would-release ${up.key}`, `would-expire ${up.key}`]);
    assert.equal(listed.jobs.abandoned.bytes, PDF.length);
    assert.equal((await statusOf(server, "cli", up.id)).status, "pending");
    assert.ok(await objectExists(server, "private", `staging/${up.id}`));

    const human = await run(["sweep", "--dry-run"], env);
    assert.equal(human.code, 0, human.stderr);
    assert.match(human.stdout, new RegExp(`would-expire +abandoned +private/${up.key}`));
    assert.match(human.stdout, /Dry run \(nothing changed\)/);

    const real = await run(["sweep", "--json"], env);
    assert.equal(real.code, 0, real.stderr);
    assert.deepEqual(untimed(JSON.parse(real.stdout).jobs.abandoned), { counts: { expired: 1 }, bytes: PDF.length, errors: 0 });
    assert.equal((await statusOf(server, "cli", up.id)).status, "expired");
    assert.equal(await objectExists(server, "private", `staging/${up.id}`), false);
  });

  it("lifecycle apply sets the expiry and multipart rules, keeps other rules, and leaves retention to Stowage", async () => {
    const admin = adminClient();
    const rulesOf = async (bucket: string) =>
      (await admin.send(new GetBucketLifecycleConfigurationCommand({ Bucket: bucket }))).Rules ?? [];
    await admin.send(new PutBucketLifecycleConfigurationCommand({
      Bucket: media.name,
      LifecycleConfiguration: { Rules: [{ ID: "ops-logs", Status: "Enabled", Filter: { Prefix: "logs/" }, Expiration: { Days: 7 } }] },
    }));

    const dry = await run(["lifecycle", "apply", "--dry-run"], env);
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, /expire 'stories\/\*' 1 days after upload \(owner type story/);
    assert.deepEqual((await rulesOf(media.name)).map((r) => r.ID), ["ops-logs"], "a dry run changes nothing");

    for (let i = 0; i < 2; i++) {
      const applied = await run(["lifecycle", "apply"], env);
      assert.equal(applied.code, 0, applied.stderr);
      assert.match(applied.stdout, /no rule for owner type signed_pdf: it keeps media 2555 days for compliance/);
      assert.match(applied.stdout, /object lock: object lock not enabled; retention of 2555 days is enforced by Stowage only/);
    }
    const mediaRules = await rulesOf(media.name);
    assert.deepEqual(mediaRules.map((r) => r.ID).sort(), ["ops-logs", "stowage-abort-incomplete-multipart", "stowage-expire-story"], "applying twice adds nothing");
    const story = mediaRules.find((r) => r.ID === "stowage-expire-story");
    assert.equal(story?.Filter?.Prefix, "stories/");
    assert.equal(story?.Expiration?.Days, 1);
    assert.equal(story?.Status, "Enabled");
    const abort = mediaRules.find((r) => r.ID === "stowage-abort-incomplete-multipart");
    assert.equal(abort?.AbortIncompleteMultipartUpload?.DaysAfterInitiation, 1);
    const complianceRules = await rulesOf(compliance.name);
    assert.deepEqual(complianceRules.map((r) => r.ID), ["stowage-abort-incomplete-multipart"], "no expiry for compliance records");
  });
});

describe("stowage lifecycle and the scheduled sweep on local storage", () => {
  let dataDir: string;
  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "stowage-sweep-cli-"));
  });
  after(() => rm(dataDir, { recursive: true, force: true }));

  it("lifecycle apply says retention runs in the sweeper", async () => {
    const res = await run(["lifecycle", "apply"], { STOWAGE_DATA_DIR: dataDir });
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stdout, /Storage is local: there are no bucket lifecycle rules/);
    assert.match(res.stdout, /stowage sweep/);
  });

  it("serve sweeps on its schedule, logs the report, and still stops cleanly", async () => {
    const child = stowage(["serve"], {
      STOWAGE_DATA_DIR: dataDir,
      STOWAGE_PORT: String(await freePort()),
      STOWAGE_SWEEP_INTERVAL_SECONDS: "1",
      LOG_LEVEL: "info",
    });
    const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
    const line = await new Promise<Record<string, any>>((resolve, reject) => {
      let out = "";
      child.stdout?.on("data", (c: Buffer) => {
        out += c;
        const found = out.split("\n").find((l) => l.includes("\"sweep finished\""));
        if (found !== undefined) resolve(JSON.parse(found));
      });
      void exited.then((code) => reject(new Error(`serve exited ${code}: ${out}`)));
    });
    assert.equal(line.level, 30);
    try {
      assert.deepEqual(Object.keys(line.sweep.jobs), ["reservations", "abandoned", "unattached", "retention", "missing", "staging", "orphans", "history", "outbox", "links"]);
      assert.deepEqual(untimed(line.sweep.jobs.orphans), { bytes: 0 });
    } finally {
      child.kill("SIGTERM");
    }
    assert.equal(await exited, 0);
  });
});

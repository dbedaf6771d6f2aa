import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm, unlink, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { Readable } from "node:stream";
import { after, before, describe, it } from "node:test";
import { ListObjectsV2Command } from "@aws-sdk/client-s3";
import { LocalDriver } from "../../src/storage/local/local-driver.js";
import { runStowage } from "../helpers/cli.js";
import { adminClient, stowageS3Env, tempBucket, type TempBucket } from "../helpers/s3.js";

const BUCKETS = { public: { public: true }, private: { public: false }, compliance: { public: false } };
const DAY_MS = 24 * 3600 * 1000;
const stowage = (args: string[], env: Record<string, string>) => runStowage(args, { LOG_LEVEL: "warn", ...env });

/**
 * Files put into the objects folder by hand, with names no object key can have: a backslash in
 * the file name, a backslash in a folder name, a newline. Written straight to disk, as an
 * operator's copy or a restore would leave them.
 */
const INVALID = [
  { path: "private/documents/evil\\name.pdf", reason: "it contains a backslash" },
  { path: "public/avatars\\x/y.png", reason: "it contains a backslash" },
  { path: "private/documents/line\nbreak.pdf", reason: "it contains a control character" },
];

async function writeRaw(objectsDir: string, path: string, body: Buffer, ageMs = 0): Promise<string> {
  const file = join(objectsDir, path);
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, body);
  if (ageMs > 0) {
    const then = new Date(Date.now() - ageMs);
    await utimes(file, then, then);
  }
  return file;
}

describe("stowage storage copy: an invalid key on disk is reported and skipped (local → RGW)", () => {
  let dataDir: string;
  let media: TempBucket;
  let compliance: TempBucket;
  const valid = [
    { bucket: "private", key: "documents/zoe/0197a1d0.pdf", body: randomBytes(4321) },
    { bucket: "compliance", key: "signed-pdfs/2025/07/0197a1d1.pdf", body: randomBytes(777) },
  ];
  const objects = () => join(dataDir, "storage", "objects");
  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "stowage-invalid-copy-"));
    const source = new LocalDriver({ root: join(dataDir, "storage"), baseUrl: "http://127.0.0.1:1", signingSecret: "s".repeat(32), buckets: BUCKETS });
    await source.init();
    for (const f of valid) {
      await source.put({ ...f, body: Readable.from([f.body]), contentLength: f.body.length, contentType: "application/pdf", cacheControl: "private" });
    }
    for (const { path } of INVALID) await writeRaw(objects(), path, Buffer.from("not an upload"));
    [media, compliance] = await Promise.all([tempBucket("stowage-invalid"), tempBucket("stowage-invalid")]);
  });
  after(async () => {
    await Promise.all([media.drop(), compliance.drop(), rm(dataDir, { recursive: true, force: true })]);
  });

  const keysIn = async (bucket: TempBucket) =>
    ((await adminClient().send(new ListObjectsV2Command({ Bucket: bucket.name }))).Contents ?? []).map((o) => o.Key).sort();

  it("copies every valid object, lists each invalid entry with its reason, and exits 1", async () => {
    const env = { STOWAGE_DATA_DIR: dataDir, ...stowageS3Env(media.name, compliance.name) };
    const dry = await stowage(["storage", "copy", "--from", "local", "--to", "s3", "--dry-run"], env);
    assert.equal(dry.code, 1, dry.stderr);
    assert.match(dry.stdout, /Dry run: would copy 2 objects .* 3 entries are not valid object keys and were left out\./);

    const copy = await stowage(["storage", "copy", "--from", "local", "--to", "s3"], env);
    assert.equal(copy.code, 1, copy.stderr);
    for (const { path, reason } of INVALID) {
      const line = `invalid  ${JSON.stringify(path)}: not a valid object key (${reason}): not copied; rename or remove it`;
      assert.ok(copy.stderr.includes(line), `${line} in ${copy.stderr}`);
    }
    assert.match(copy.stdout, /Copied 2, skipped 0 \(already in S3\), failed 0 of 5 objects; .* 3 entries are not valid object keys/);
    assert.match(copy.stderr, /stowage: 3 entries are not valid object keys \(listed above\) and were not copied; rename or remove them/);
    assert.doesNotMatch(copy.stderr, /at .*\.ts:\d+/, "no stack trace");
    assert.deepEqual(await keysIn(media), [valid[0]?.key]);
    assert.deepEqual(await keysIn(compliance), [valid[1]?.key]);

    // Once an operator has removed them, the same command finishes cleanly.
    for (const { path } of INVALID) await unlink(join(objects(), path));
    const again = await stowage(["storage", "copy", "--from", "local", "--to", "s3"], env);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /Copied 0, skipped 2 \(already in S3\), failed 0 of 2 objects/);
  });
});

describe("stowage sweep: an invalid key on disk is reported and skipped (local storage)", () => {
  let dataDir: string;
  let env: Record<string, string>;
  const objects = () => join(dataDir, "storage", "objects");
  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "stowage-invalid-sweep-"));
    env = { STOWAGE_DATA_DIR: dataDir };
    const migrated = await stowage(["migrate"], env);
    assert.equal(migrated.code, 0, migrated.stderr);
  });
  after(() => rm(dataDir, { recursive: true, force: true }));

  it("deletes the real orphans around it, leaves it in place and says why", async () => {
    // Past the orphan grace (24 h): all of them would be deleted if they could be.
    const [evil = { path: "" }] = INVALID;
    const evilFile = await writeRaw(objects(), evil.path, Buffer.from("x"), 2 * DAY_MS);
    const ghosts = ["documents/ghost/0197a1e0.pdf", "documents/zz-ghost/0197a1e1.pdf"];
    for (const key of ghosts) await writeRaw(objects(), `private/${key}`, Buffer.from("orphan"), 2 * DAY_MS);

    const dry = await stowage(["sweep", "--dry-run", "--json"], env);
    assert.equal(dry.code, 1, dry.stderr);
    const listed = JSON.parse(dry.stdout) as { items: { job: string; action: string; key: string; error?: string }[] };
    const orphans = listed.items.filter((i) => i.job === "orphans").map((i) => `${i.action} ${i.key}${i.error === undefined ? "" : ` (${i.error})`}`);
    assert.deepEqual(orphans.sort(), [
      ...ghosts.map((k) => `would-delete ${k}`),
      "skipped documents/evil\\name.pdf (not a valid object key (it contains a backslash): left in place; rename or remove it)",
    ].sort());

    const real = await stowage(["sweep"], env);
    assert.equal(real.code, 1, `exits 1: an operator has to look at it\n${real.stdout}${real.stderr}`);
    assert.match(real.stdout, /^skipped +orphans +private\/documents\/evil\\name\.pdf +0 B +\(not a valid object key \(it contains a backslash\)/m);
    const summary = /^ {2}orphans +(.*)$/m.exec(real.stdout)?.[1] ?? "";
    // Counts in the order the listing met them, which is the filesystem's.
    const words = summary.split(", ");
    // And the job's own time, which no test can predict.
    assert.equal(words.filter((w) => /^\d+(\.\d)? ms$/.test(w)).length, 1, summary);
    assert.deepEqual(words.filter((w) => !w.endsWith(" ms")).sort(), ["1 with errors", "12 bytes", "deleted 2", "skipped 1"], summary);
    for (const key of ghosts) assert.equal(existsSync(join(objects(), "private", key)), false, `${key} deleted`);
    assert.ok(existsSync(evilFile), "the invalid entry is left in place");
  });
});

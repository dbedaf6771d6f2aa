import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { createReadStream, createWriteStream, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import type { ReadableStream as WebReadableStream } from "node:stream/web";
import { after, before, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import type { FileResult } from "../../src/cli/upload-report.js";
import { ROOT, runStowage, spawnStowage } from "../helpers/cli.js";
import { tempPostgres, type TestDatabase } from "../helpers/databases.js";
import { PNG, png } from "../helpers/fixtures.js";
import { relay } from "../helpers/relay.js";
import { s3Env, stowageS3Env, tempBucket, type TempBucket } from "../helpers/s3.js";
import { freePort, startStowage, type TestServer } from "../helpers/server.js";
import { MP4_HEADER, MiB, sweepConfigFile } from "../helpers/sweep.js";

/** `video` goes multipart from 5 MiB (5 MiB parts); this run's files are larger than the helper's 100 MiB cap. */
const VIDEO = {
  allowedTypes: ["video/mp4"], maxBytes: 512 * MiB, urlTtlSeconds: 300, multipartThresholdBytes: 5 * MiB,
  keyTemplate: "videos/{userId}/{id}.{ext}", bucket: "private", visibility: "private",
};
const BIG = 200 * MiB;

interface Backend {
  server: TestServer;
  /** Counts what clients sent to where the bytes of an upload go: Stowage itself, or the S3 server. */
  received(): number;
  close(): Promise<void>;
}

/** The embedded default, behind a counting relay: presigned URLs point at the relay (`STOWAGE_BASE_URL`). */
async function localBackend(env: Record<string, string> = {}): Promise<Backend> {
  const [port, relayPort] = [await freePort(), await freePort()];
  const counter = await relay(new URL(`http://127.0.0.1:${port}`), relayPort);
  const server = await startStowage({
    STOWAGE_PORT: String(port),
    STOWAGE_BASE_URL: `http://127.0.0.1:${relayPort}`,
    STOWAGE_CONFIG_FILE: sweepConfigFile({ video: VIDEO }),
    STOWAGE_DEFAULT_QUOTA_BYTES: String(2048 * MiB),
    ...env,
  });
  return { server, received: counter.received, close: async () => void (await server.close(), await counter.cut()) };
}

/** PostgreSQL + the real S3 server (Ceph RGW), with part URLs signed for a counting relay in front of it. */
async function s3Backend(): Promise<Backend> {
  const relayPort = await freePort();
  const counter = await relay(new URL(s3Env().endpoint), relayPort);
  let database: TestDatabase | undefined;
  let bucket: TempBucket | undefined;
  try {
    database = await tempPostgres();
    bucket = await tempBucket("stowage-cli-upload");
    const server = await startStowage({
      ...database.env,
      ...stowageS3Env(bucket.name),
      STOWAGE_S3_PUBLIC_ENDPOINT: `http://127.0.0.1:${relayPort}`,
      STOWAGE_CONFIG_FILE: sweepConfigFile({ video: VIDEO }),
      STOWAGE_DEFAULT_QUOTA_BYTES: String(2048 * MiB),
    });
    const [db, b] = [database, bucket];
    const close = async () => void (await server.close(), await Promise.all([db.drop(), b.drop(), counter.cut()]));
    return { server, received: counter.received, close };
  } catch (error) {
    await Promise.all([database?.drop(), bucket?.drop(), counter.cut()]);
    throw error;
  }
}

/** A file of `size` bytes that sniffs as MP4, written in 1 MiB chunks (never 200 MiB in this process). */
async function videoFile(path: string, size: number): Promise<string> {
  const out = createWriteStream(path);
  out.write(MP4_HEADER);
  for (let written = MP4_HEADER.length; written < size; written += MiB) {
    if (!out.write(randomBytes(Math.min(MiB, size - written)))) await new Promise<void>((resolve) => out.once("drain", () => resolve()));
  }
  await new Promise<void>((resolve, reject) => out.end((error?: Error | null) => (error ? reject(error) : resolve())));
  return path;
}

async function sha256(stream: AsyncIterable<Uint8Array>): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of stream) hash.update(chunk);
  return hash.digest("hex");
}

/** The confirmed object's bytes, downloaded through a signed URL the server hands out, hashed. */
async function storedHash(server: TestServer, user: string, id: string): Promise<string> {
  const { url } = (await server.api("GET", `/v1/uploads/${id}/download`, { as: user })).json();
  const response = await fetch(url);
  assert.equal(response.status, 200);
  assert.ok(response.body !== null);
  return sha256(Readable.fromWeb(response.body as WebReadableStream<Uint8Array>));
}

/** `stowage upload` as a child process, with the token in its environment. */
function spawnUpload(backend: Backend, token: string, args: string[]): ChildProcess {
  return spawnStowage(["upload", "--url", backend.server.baseUrl, ...args], { STOWAGE_TOKEN: token });
}

interface Finished {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

async function finished(child: ChildProcess): Promise<Finished> {
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (c: Buffer) => (stdout += c));
  child.stderr?.on("data", (c: Buffer) => (stderr += c));
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.on("close", (c, s) => resolve([c, s])));
  return { code, signal, stdout, stderr };
}

/** Samples a process's resident set from /proc until it exits; the peak, in bytes. */
async function peakRss(pid: number, done: Promise<unknown>): Promise<number> {
  let peak = 0;
  let running = true;
  void done.finally(() => (running = false));
  while (running) {
    try {
      const kb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0);
      peak = Math.max(peak, kb * 1024);
    } catch {
      break; // gone
    }
    await sleep(20);
  }
  return peak;
}

/** Waits until `condition` holds, checking every few milliseconds. */
async function until(condition: () => boolean, what: string, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(2);
  }
}

describe("stowage upload on the embedded default", () => {
  let backend: Backend;
  let dir: string;
  before(async () => {
    backend = await localBackend();
    dir = mkdtempSync(join(tmpdir(), "stowage-cli-upload-"));
  });
  after(async () => {
    await backend.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const resumeFile = () => join(dir, `resume-${randomBytes(4).toString("hex")}.json`);

  it("uploads two files and prints one JSON array of confirmed uploads", async () => {
    const files = [join(dir, "one.png"), join(dir, "two.png")];
    writeFileSync(files[0] as string, png(3000));
    writeFileSync(files[1] as string, png(70_000));
    const token = await backend.server.token("json-user");
    const res = await finished(spawnUpload(backend, token, ["--owner-type", "avatar", "--json", "--resume-file", resumeFile(), ...files]));
    assert.equal(res.code, 0, res.stderr);
    assert.equal(res.stderr, "");
    const results = JSON.parse(res.stdout) as FileResult[];
    assert.equal(results.length, 2);
    for (const [i, result] of results.entries()) {
      assert.ok(result.ok, JSON.stringify(result));
      assert.equal(result.file, files[i]);
      assert.match(result.id, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      assert.equal(result.status, "confirmed");
      assert.equal(result.size, i === 0 ? 3000 : 70_000);
      assert.equal(result.contentType, "image/png");
      assert.equal(result.bytesSent, result.size);
      assert.equal(result.resumed, false);
      assert.equal(result.key, `avatars/json-user/${result.id}.png`);
      // A public owner type: the URL serves the bytes as they were sent.
      const served = await fetch(result.url ?? assert.fail("no url"));
      assert.equal(served.status, 200);
      assert.deepEqual(Buffer.from(await served.arrayBuffer()), readFileSync(files[i] as string));
      const row = (await backend.server.api("GET", `/v1/uploads/${result.id}`, { as: "json-user" })).json();
      assert.equal(row.status, "confirmed");
      assert.equal(row.filename, i === 0 ? "one.png" : "two.png");
    }
  });

  it("on a terminal, draws a bar per file that ends at 100 % and done, then prints the URLs", async () => {
    const files = [join(dir, "first.png"), join(dir, "second.png")];
    writeFileSync(files[0] as string, png(3000));
    writeFileSync(files[1] as string, png(90_000));
    const token = await backend.server.token("tty-user");
    // `script` gives the command a pseudo-terminal for stdout and stderr, as a person's shell would.
    const argv = [process.execPath, "--import", import.meta.resolve("tsx"), join(ROOT, "src/main.ts"), "upload",
      "--url", backend.server.baseUrl, "--owner-type", "avatar", "--resume-file", resumeFile(), ...files];
    const command = argv.map((arg) => `'${arg.replaceAll("'", "'\\''")}'`).join(" ");
    const res = await finished(spawn("script", ["-qfec", command, "/dev/null"], {
      env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", STOWAGE_TOKEN: token, TERM: "xterm", COLUMNS: "120" },
      stdio: ["ignore", "pipe", "pipe"],
    }));
    assert.equal(res.code, 0, res.stdout + res.stderr);
    const screen = res.stdout.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, "");
    for (const [name, size] of [["first.png ", "2.9 KiB"], ["second.png", "87.9 KiB"]] as const) {
      assert.match(screen, new RegExp(`${name} \\[█{24}\\] 100% +${size.replace(".", "\\.")} of ${size.replace(".", "\\.")} +done`), screen);
    }
    const rows = (await backend.server.api("GET", "/v1/uploads?limit=10", { as: "tty-user" })).json().items as { id: string }[];
    assert.equal(rows.length, 2);
    for (const row of rows) assert.match(screen, new RegExp(`: confirmed, .*id ${row.id}  http://`), screen);
  });

  it("refuses a file of the wrong type with the server's code and its figures, exits 1, and still uploads the other", async () => {
    const good = join(dir, "good.png");
    const notes = join(dir, "notes.txt");
    writeFileSync(good, PNG);
    writeFileSync(notes, "not an image\n");
    const token = await backend.server.token("mixed");
    const res = await finished(spawnUpload(backend, token, ["--owner-type", "avatar", "--resume-file", resumeFile(), notes, good]));
    assert.equal(res.code, 1);
    // Not a terminal: no bars, one line per finished file, failures on stderr.
    assert.match(res.stdout, new RegExp(`^${good}: confirmed, 67 B  id [0-9a-f-]{36}  http://\\S+\\n$`));
    assert.match(
      res.stderr,
      new RegExp(`^stowage: ${notes}: refused \\(CONTENT_TYPE_NOT_ALLOWED\\): text/plain is not allowed for avatar\\. — allowed: image/jpeg, image/png`, "m"),
    );
    assert.match(res.stderr, /^1 of 2 files uploaded, 1 not\.$/m);
    assert.doesNotMatch(res.stderr, /\x1b\[|at .*\.ts:\d+/, "no terminal codes, no stack trace");
    assert.equal((await backend.server.api("GET", "/v1/quota", { as: "mixed" })).json().usedBytes, PNG.length);
  });

  it("names the quota's figures when the quota refuses, in words and as JSON", async () => {
    const tight = await localBackend({ STOWAGE_DEFAULT_QUOTA_BYTES: String(PNG.length + 10) });
    try {
      const [first, second] = [join(dir, "q1.png"), join(dir, "q2.png")];
      writeFileSync(first, PNG);
      writeFileSync(second, PNG);
      const token = await tight.server.token("tight");
      const args = ["--owner-type", "avatar", "--concurrency", "1", "--resume-file", resumeFile(), first, second];
      const human = await finished(spawnUpload(tight, token, args));
      assert.equal(human.code, 1);
      assert.match(human.stderr, /q2\.png: refused \(QUOTA_EXCEEDED\): .+ — 67 B of 77 B used; this file needs 67 B/);
      const json = await finished(spawnUpload(tight, token, ["--json", ...args]));
      assert.equal(json.code, 1);
      const results = JSON.parse(json.stdout) as FileResult[];
      assert.deepEqual(results.map((r) => (r.ok ? "ok" : r.error.code)), ["QUOTA_EXCEEDED", "QUOTA_EXCEEDED"]);
      const [refused] = results;
      assert.ok(refused !== undefined && !refused.ok);
      assert.equal(refused.error.status, 413);
      assert.deepEqual(refused.error.details, { usedBytes: 67, reservedBytes: 0, limitBytes: 77, rejectedBytes: 67 });
    } finally {
      await tight.close();
    }
  });

  it("takes the token from STOWAGE_TOKEN or --token and never prints it", async () => {
    const file = join(dir, "secret.png");
    writeFileSync(file, PNG);
    const missing = await runStowage(["upload", "--owner-type", "avatar", "--url", backend.server.baseUrl, file], {});
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /^stowage: no token: set STOWAGE_TOKEN .* or pass --token\n$/);
    const missingJson = await runStowage(["upload", "--json", "--owner-type", "avatar", "--url", backend.server.baseUrl, file], {});
    assert.equal(missingJson.code, 1);
    assert.equal(JSON.parse(missingJson.stdout).error.code, "TOKEN_REQUIRED");

    // Signed with another secret: the server refuses it. Neither the refusal nor the help shows it.
    const wrong = await backend.server.token("intruder", { secret: "another-secret-that-is-long-enough-0123456789" });
    const refused = await runStowage(
      ["upload", "--owner-type", "avatar", "--url", backend.server.baseUrl, "--resume-file", resumeFile(), "--token", wrong, file],
      {},
    );
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /refused \(UNAUTHENTICATED\)/);
    const help = await runStowage(["upload", "--help"], { STOWAGE_TOKEN: wrong });
    assert.equal(help.code, 0);
    assert.match(help.stdout, /STOWAGE_TOKEN/);
    for (const output of [refused.stdout, refused.stderr, help.stdout, help.stderr]) assert.ok(!output.includes(wrong), output);
  });

  it("uploads a 200 MiB file from its path with flat memory", async (t) => {
    const [small, big] = [await videoFile(join(dir, "small.mp4"), 6 * MiB), await videoFile(join(dir, "big.mp4"), BIG)];
    const token = await backend.server.token("memory");
    const measure = async (file: string) => {
      const child = spawnUpload(backend, token, ["--owner-type", "video", "--json", "--resume-file", resumeFile(), file]);
      const done = finished(child);
      const peak = await peakRss(child.pid as number, done);
      const res = await done;
      assert.equal(res.code, 0, res.stderr);
      return { peak, result: (JSON.parse(res.stdout) as FileResult[])[0] };
    };
    // The same command with a small multipart file: what the process takes whatever the size.
    const baseline = await measure(small);
    const measured = await measure(big);
    assert.ok(measured.result?.ok && measured.result.size === BIG, JSON.stringify(measured.result));
    const growth = measured.peak - baseline.peak;
    t.diagnostic(`peak RSS: ${(baseline.peak / MiB).toFixed(0)} MiB for 6 MiB, ${(measured.peak / MiB).toFixed(0)} MiB for 200 MiB (+${(growth / MiB).toFixed(1)} MiB)`);
    // Each 256 KiB chunk read from the file is a fresh buffer, garbage once the socket took it;
    // V8 collects such buffers lazily, once tens of MiB of them have piled up (`arrayBuffers`
    // peaked at 40-70 MiB in process, whether the file had 200 or 600 MiB). So the bound is
    // what that heap policy allows plus slack, far from the file's 200 MiB: 28-66 MiB measured.
    assert.ok(growth < 96 * MiB, `peak RSS grew by ${(growth / MiB).toFixed(1)} MiB`);
  });

  it("pauses on Ctrl-C, says how to resume, and exits 130", async () => {
    const file = await videoFile(join(dir, "paused.mp4"), 60 * MiB);
    const token = await backend.server.token("pauser");
    const before = backend.received();
    const child = spawnUpload(backend, token, ["--owner-type", "video", "--json", "--concurrency", "2", "--resume-file", resumeFile(), file]);
    const done = finished(child);
    await until(() => backend.received() - before > 15 * MiB, "15 MiB to arrive");
    child.kill("SIGINT");
    const res = await done;
    assert.equal(res.code, 130, res.stderr);
    const [result] = JSON.parse(res.stdout) as FileResult[];
    assert.ok(result !== undefined && !result.ok && result.error.code === "PAUSED", JSON.stringify(result));
    assert.match(res.stderr, /Paused\. Run the same command again to resume/);
  });
});

for (const [name, makeBackend] of [["SQLite + local disk", () => localBackend()], ["PostgreSQL + S3 (Ceph RGW)", s3Backend]] as const) {
  describe(`stowage upload resumes after being killed, on ${name}`, () => {
    let backend: Backend;
    let dir: string;
    before(async () => {
      backend = await makeBackend();
      dir = mkdtempSync(join(tmpdir(), "stowage-cli-resume-"));
    });
    after(async () => {
      await backend.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it("killed (SIGKILL) past 40 %, run again with the same resume file: sends only what the store lacks", async (t) => {
      const file = await videoFile(join(dir, "long.mp4"), BIG);
      const resumeFile = join(dir, "cache", "stowage", "uploads.json");
      const token = await backend.server.token("resumer");
      const args = ["--owner-type", "video", "--json", "--resume-file", resumeFile, file];

      const start = backend.received();
      const first = spawnUpload(backend, token, args);
      const killed = finished(first);
      await until(() => backend.received() - start > 0.4 * BIG, "40 % of the file to arrive");
      first.kill("SIGKILL");
      assert.equal((await killed).signal, "SIGKILL");
      const firstRun = backend.received() - start;

      const again = backend.received();
      const second = await finished(spawnUpload(backend, token, args));
      const secondRun = backend.received() - again;
      assert.equal(second.code, 0, second.stderr);
      const [result] = JSON.parse(second.stdout) as FileResult[];
      assert.ok(result?.ok, JSON.stringify(result));
      t.diagnostic(
        `first run: ${(firstRun / MiB).toFixed(1)} MiB arrived before the kill; second run: ${(secondRun / MiB).toFixed(1)} MiB arrived, ` +
        `the CLI reports ${(result.bytesSent / MiB).toFixed(1)} MiB sent, of ${BIG / MiB} MiB`,
      );
      assert.equal(result.resumed, true);
      assert.equal(result.size, BIG);
      // What was stored before the kill (at least ~40 % less the parts in flight) is not sent again.
      assert.ok(result.bytesSent <= 0.75 * BIG, `the CLI sent ${result.bytesSent} bytes again`);
      assert.ok(secondRun < 0.76 * BIG, `${secondRun} bytes arrived in the second run`);
      assert.ok(firstRun + secondRun < 1.5 * BIG);
      assert.equal(await storedHash(backend.server, "resumer", result.id), await sha256(createReadStream(file)));
      assert.deepEqual(JSON.parse(readFileSync(resumeFile, "utf8")), {}, "the finished upload is forgotten");
    });
  });
}

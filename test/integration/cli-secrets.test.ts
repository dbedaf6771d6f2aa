import assert from "node:assert/strict";
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { after, before, describe, it } from "node:test";
import { ROOT, runStowage, spawnStowage } from "../helpers/cli.js";
import { tempPostgres } from "../helpers/databases.js";
import { PNG } from "../helpers/fixtures.js";
import { putPresigned, rawRequest } from "../helpers/http.js";
import { freePort } from "../helpers/ports.js";

const tempDir = (name: string) => mkdtempSync(join(tmpdir(), `stowage-${name}-`));
const mode = (path: string) => statSync(path).mode & 0o777;

/** Every file and folder below `dir`, with its mode. */
function modesBelow(dir: string): { path: string; dir: boolean; mode: number }[] {
  return readdirSync(dir, { recursive: true, encoding: "utf8" }).map((entry) => {
    const path = join(dir, entry);
    const info = statSync(path);
    return { path, dir: info.isDirectory(), mode: info.mode & 0o777 };
  });
}

/** Runs a line as a person would paste it into a shell: `sh -c`, in `cwd`, then prints $TOKEN. */
function runInShell(line: string, cwd: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn("sh", ["-c", `${line}\nprintf %s "$TOKEN"`], {
    cwd,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (c: Buffer) => (stdout += c));
  child.stderr.on("data", (c: Buffer) => (stderr += c));
  return new Promise((resolve) => child.on("close", (code) => resolve({ code, stdout, stderr })));
}

describe("stowage token and migrate never create secrets", () => {
  let elsewhere: string;
  before(() => {
    elsewhere = tempDir("elsewhere");
  });
  after(() => rmSync(elsewhere, { recursive: true, force: true }));

  it("token run away from the server's data directory fails, naming the file and the variables, and creates nothing", async () => {
    const res = await runStowage(["token", "--user", "alice"], {}, elsewhere);
    assert.equal(res.code, 1, res.stdout);
    assert.equal(res.stdout, "", "no token printed");
    assert.match(res.stderr, new RegExp(`no STOWAGE_JWT_SECRET is set and there is no secret at ${join(elsewhere, ".stowage-data", "jwt-secret")}`));
    assert.match(res.stderr, /set STOWAGE_DATA_DIR to the data directory `stowage serve` uses/);
    assert.doesNotMatch(res.stderr, /at .*\.ts:\d+/, "no stack trace");
    assert.deepEqual(readdirSync(elsewhere), [], "token created files");
  });

  it("migrate on PostgreSQL needs no secret and writes nothing where it runs, in production too", async () => {
    const db = await tempPostgres();
    try {
      for (const extra of [{}, { NODE_ENV: "production" }]) {
        const res = await runStowage(["migrate"], { ...db.env, LOG_LEVEL: "warn", ...extra }, elsewhere);
        assert.equal(res.code, 0, res.stderr);
        assert.match(res.stdout, /Migrated postgres:\/\//);
        assert.deepEqual(readdirSync(elsewhere), [], "migrate created files (.stowage-data?)");
      }
    } finally {
      await db.drop();
    }
  });
});

describe("stowage serve in a data directory of its own", () => {
  let dataDir: string;
  let elsewhere: string;
  let child: ChildProcess;
  let baseUrl: string;
  let banner = "";
  before(async () => {
    dataDir = tempDir("serve-data");
    elsewhere = tempDir("elsewhere");
    // As an older version left it: readable by everyone.
    chmodSync(dataDir, 0o755);
    const port = await freePort();
    baseUrl = `http://127.0.0.1:${port}`;
    // The printed command runs `npm run stowage`, that is bin/stowage.js on dist/ (quick when up to date).
    await promisify(execFile)("npm", ["run", "-s", "build"], { cwd: ROOT });
    child = spawnStowage(["serve"], { STOWAGE_DATA_DIR: dataDir, STOWAGE_PORT: String(port), LOG_LEVEL: "warn" });
    await new Promise<void>((resolve, reject) => {
      child.stderr?.on("data", (c: Buffer) => {
        banner += c;
        if (banner.includes("Try it")) resolve();
      });
      child.on("exit", (code) => reject(new Error(`serve exited ${code}: ${banner}`)));
    });
  });
  after(() => {
    child.kill("SIGKILL");
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(elsewhere, { recursive: true, force: true });
  });

  it("prints a token command that works as printed, from any directory, and the server accepts its token", async () => {
    const hint = /Get a token: +(.+)/.exec(banner)?.[1];
    assert.ok(hint !== undefined, banner);
    const res = await runInShell(hint, elsewhere);
    assert.equal(res.code, 0, `${hint}\n${res.stderr}`);
    assert.ok(hint.includes(`STOWAGE_DATA_DIR=${dataDir}`), hint);
    const token = res.stdout.trim();
    assert.match(token, /^[\w-]+\.[\w-]+\.[\w-]+$/);
    const quota = await rawRequest(`${baseUrl}/v1/quota`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(quota.status, 200, quota.body.toString());
    assert.deepEqual(readdirSync(elsewhere), [], "the token command created files");
  });

  it("builds nothing again from unchanged sources, which keeps a second `npm start` quick", async () => {
    const compiled = ["dist/src/main.js", "dist/src/http/app.js", "dist/packages/client/src/upload.js", "dist/.tsbuildinfo"];
    const mtimes = () => compiled.map((file) => statSync(join(ROOT, file)).mtimeMs);
    const before = mtimes();
    await promisify(execFile)("npm", ["run", "-s", "build"], { cwd: ROOT });
    assert.deepEqual(mtimes(), before, "tsc wrote its output again");
  });

  it("the built command (bin/stowage.js on dist/) uploads through the client SDK it carries", async () => {
    const token = (await runStowage(["token", "--user", "built"], { STOWAGE_DATA_DIR: dataDir })).stdout.trim();
    const dir = tempDir("built-upload");
    try {
      writeFileSync(join(dir, "me.png"), PNG);
      const args = ["upload", "--owner-type", "avatar", "--url", baseUrl, "--json", "--resume-file", join(dir, "resume.json"), "me.png"];
      const { stdout } = await promisify(execFile)(process.execPath, [join(ROOT, "bin/stowage.js"), ...args], {
        cwd: dir,
        env: { PATH: process.env.PATH ?? "", HOME: dir, STOWAGE_TOKEN: token },
      });
      const [result] = JSON.parse(stdout);
      assert.equal(result.status, "confirmed", stdout);
      assert.equal(result.size, PNG.length);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("the built server (npm start: bin/stowage.js serve on dist/) serves the built upload page and prints its link", async () => {
    const port = await freePort();
    const ownDir = tempDir("built-serve");
    const built = spawn(process.execPath, [join(ROOT, "bin/stowage.js"), "serve"], {
      env: { PATH: process.env.PATH ?? "", HOME: ownDir, STOWAGE_DATA_DIR: ownDir, STOWAGE_PORT: String(port), LOG_LEVEL: "warn" },
      stdio: ["ignore", "ignore", "pipe"],
    });
    try {
      let out = "";
      await new Promise<void>((resolve, reject) => {
        built.stderr?.on("data", (c: Buffer) => {
          out += c;
          if (out.includes("Try it")) resolve();
        });
        built.on("exit", (code) => reject(new Error(`serve exited ${code}: ${out}`)));
      });
      assert.match(out, /Upload page: +http:\/\/127\.0\.0\.1:\d+\/#token=/, out);
      assert.doesNotMatch(out, /not built/, out);
      const page = await rawRequest(`http://127.0.0.1:${port}/`);
      assert.equal(page.status, 200, out);
      assert.match(page.body.toString(), /<script[^>]+src="\/page\/main-/);
    } finally {
      built.kill("SIGKILL");
      rmSync(ownDir, { recursive: true, force: true });
    }
  });

  it("keeps the data private: folder 0700, database, WAL, SHM, secrets, objects and their meta 0600", async () => {
    const token = (await runStowage(["token", "--user", "modes"], { STOWAGE_DATA_DIR: dataDir })).stdout.trim();
    const auth = { authorization: `Bearer ${token}` };
    const presign = await rawRequest(`${baseUrl}/v1/uploads`, {
      method: "POST",
      headers: { ...auth, "content-type": "application/json" },
      body: JSON.stringify({ ownerType: "avatar", filename: "me.png", contentType: "image/png", size: PNG.length }),
    });
    assert.equal(presign.status, 201, presign.body.toString());
    assert.equal((await putPresigned(presign.json(), PNG)).status, 200);
    const confirmed = await rawRequest(`${baseUrl}/v1/uploads/${presign.json().id}/confirm`, { method: "POST", headers: auth });
    assert.equal(confirmed.status, 200, confirmed.body.toString());

    assert.equal(mode(dataDir), 0o700, "data directory");
    const files = ["stowage.db", "stowage.db-wal", "stowage.db-shm", "jwt-secret", "signing-secret"];
    for (const file of files) assert.equal(mode(join(dataDir, file)), 0o600, file);
    const stored = modesBelow(join(dataDir, "storage"));
    const objects = stored.filter((e) => !e.dir);
    assert.ok(objects.some((e) => e.path.includes("/objects/") && e.path.endsWith(".png")), JSON.stringify(stored));
    assert.ok(objects.some((e) => e.path.includes("/meta/")), JSON.stringify(stored));
    for (const entry of stored) assert.equal(entry.mode, entry.dir ? 0o700 : 0o600, entry.path);
    assert.ok(existsSync(join(dataDir, "storage", "tmp")));
  });
});

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, it } from "node:test";
import BetterSqlite3 from "better-sqlite3";
import { WalCheckpointer } from "./sqlite-checkpointer.js";

/** Writes ~`bytes` of rows in WAL mode with SQLite's own checkpoints off, so only the WAL holds them. */
function writeRows(file: string, bytes: number): BetterSqlite3.Database {
  const db = new BetterSqlite3(file);
  db.pragma("journal_mode = WAL");
  db.pragma("wal_autocheckpoint = 0");
  db.exec("create table if not exists t (v text)");
  const insert = db.prepare("insert into t (v) values (?)");
  const row = "x".repeat(1000);
  db.transaction(() => {
    for (let i = 0; i < bytes / 1000; i++) insert.run(row);
  })();
  return db;
}

/** Rows the database file holds on its own, without its WAL: what a checkpoint has copied in. */
function rowsInMainFile(file: string, dir: string): number {
  const copy = join(dir, `copy-${Date.now()}.db`);
  copyFileSync(file, copy);
  const db = new BetterSqlite3(copy, { readonly: true });
  try {
    const exists = db.prepare("select count(*) as n from sqlite_master where name = 't'").get() as { n: number };
    return exists.n === 0 ? 0 : (db.prepare("select count(*) as n from t").get() as { n: number }).n;
  } finally {
    db.close();
  }
}

async function until(condition: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe("WalCheckpointer", () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "wal-checkpointer-"));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("copies a WAL past its threshold into the database file, from a worker thread", async () => {
    const file = join(dir, "big.db");
    const db = writeRows(file, 600_000);
    assert.equal(rowsInMainFile(file, dir), 0, "the rows are only in the WAL before a checkpoint");
    assert.ok(statSync(`${file}-wal`).size > 500_000);
    const checkpointer = new WalCheckpointer(file, { thresholdBytes: 256 * 1024, intervalMs: 20 });
    try {
      await until(() => checkpointer.stats.checkpoints >= 1);
      assert.equal(checkpointer.stats.failure, undefined);
      assert.equal(rowsInMainFile(file, dir), 600);
    } finally {
      await checkpointer.stop();
      db.close();
    }
  });

  it("leaves a WAL under its threshold alone, and starts no worker for it", async () => {
    const file = join(dir, "small.db");
    const db = writeRows(file, 50_000);
    const checkpointer = new WalCheckpointer(file, { thresholdBytes: 256 * 1024, intervalMs: 20 });
    try {
      await new Promise((resolve) => setTimeout(resolve, 200));
      assert.equal(checkpointer.stats.checkpoints, 0);
      assert.equal(rowsInMainFile(file, dir), 0);
    } finally {
      await checkpointer.stop();
      db.close();
    }
  });

  it("never keeps the process alive: one that left its store open still exits", () => {
    const file = join(dir, "exit.db");
    // Left open: closing the last connection would checkpoint the WAL away itself.
    const db = writeRows(file, 300_000);
    const script = join(dir, "exit.mjs");
    const module = fileURLToPath(new URL("./sqlite-checkpointer.ts", import.meta.url));
    writeFileSync(script, [
      `import { WalCheckpointer } from ${JSON.stringify(module)};`,
      `const checkpointer = new WalCheckpointer(${JSON.stringify(file)}, { thresholdBytes: 1024, intervalMs: 10 });`,
      // Ends once a checkpoint ran (the worker started), without stopping it.
      "const wait = setInterval(() => { if (checkpointer.stats.checkpoints > 0) { clearInterval(wait); console.log('checkpointed'); } }, 10);",
    ].join("\n"));
    const child = spawnSync(process.execPath, ["--import", "tsx", script], { timeout: 20_000, encoding: "utf8" });
    db.close();
    assert.equal(child.error, undefined, "the process did not exit on its own");
    assert.equal(child.status, 0, child.stderr);
    assert.match(child.stdout, /checkpointed/);
  });
});

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before } from "node:test";
import Database from "better-sqlite3";
import pg from "pg";
import { openStore } from "../../src/store/open.js";
import type { MetadataStore } from "../../src/store/store.js";
import { tempPostgres } from "./databases.js";

export interface OpenedStore {
  store: MetadataStore;
  /** Another store on the same database (a second instance). */
  another: () => MetadataStore;
  /** Runs raw SQL on the same database, for states no store method makes (a subject's own limit). */
  exec: (sql: string) => Promise<void>;
  /** Reads rows with raw SQL, for state no store method shows (the history purge's held rows). */
  rows: (sql: string) => Promise<Record<string, unknown>[]>;
  drop: () => Promise<void>;
  /** The connection URL, on PostgreSQL (for a test that holds a transaction of its own). */
  url?: string;
}

/**
 * The metadata store on each database the tests cover, for states the HTTP API cannot arrange:
 * `for (const [name, open] of STORES) describe(…)`. Each call makes a fresh database.
 */
export const STORES: readonly [string, () => Promise<OpenedStore>][] = [
  ["SQLite", async () => {
    const dir = mkdtempSync(join(tmpdir(), "stowage-store-"));
    const file = join(dir, "stowage.db");
    const open = () => openStore({ kind: "sqlite", file });
    const exec = async (sql: string) => {
      const db = new Database(file);
      db.pragma("busy_timeout = 5000");
      db.exec(sql);
      db.close();
    };
    const rows = async (sql: string) => {
      const db = new Database(file, { readonly: true });
      try {
        return db.prepare(sql).all() as Record<string, unknown>[];
      } finally {
        db.close();
      }
    };
    return { store: open(), another: open, exec, rows, drop: async () => rmSync(dir, { recursive: true, force: true }) };
  }],
  ["PostgreSQL", async () => {
    const database = await tempPostgres();
    const url = database.env.DATABASE_URL as string;
    const open = () => openStore({ kind: "postgres", url });
    const rows = async (sql: string) => {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        return (await client.query<Record<string, unknown>>(sql)).rows;
      } finally {
        await client.end();
      }
    };
    const exec = async (sql: string) => {
      await rows(sql);
    };
    return { store: open(), another: open, exec, rows, drop: () => database.drop(), url };
  }],
];

/**
 * A fresh, migrated store for the enclosing suite: opened before its tests, closed and its
 * database dropped after them. `use` gets it once it is open (the suite keeps what it needs).
 */
export function migratedStore(open: () => Promise<OpenedStore>, use: (opened: OpenedStore) => void): void {
  let opened: OpenedStore | undefined;
  before(async () => {
    opened = await open();
    await opened.store.migrate();
    use(opened);
  });
  after(async () => {
    await opened?.store.close();
    await opened?.drop();
  });
}

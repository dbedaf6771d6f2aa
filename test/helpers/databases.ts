import { randomBytes } from "node:crypto";
import Database from "better-sqlite3";
import pg from "pg";
import type { TestServer } from "./server.js";

/** The PostgreSQL server tests create their own databases on (trust auth here, as in CI). */
export const PG_ADMIN_URL = process.env.STOWAGE_TEST_PG_URL ?? "postgres://postgres@127.0.0.1:5432/test";

export interface TestDatabase {
  /** Extra environment for `startStowage` (empty for the SQLite default). */
  env: Record<string, string>;
  /** Runs raw SQL against the server's database (for arranging odd states). */
  exec(server: TestServer, sql: string): Promise<void>;
  drop(): Promise<void>;
}

/** A throw-away PostgreSQL database; fails loudly (never skips) when the server is unreachable. */
export async function tempPostgres(): Promise<TestDatabase> {
  const name = `stowage_test_${randomBytes(6).toString("hex")}`;
  const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
  await admin.connect().catch((error: unknown) => {
    throw new Error(`PostgreSQL is not reachable at ${PG_ADMIN_URL}: the production-mode tests need it`, { cause: error });
  });
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    env: { DATABASE_URL: url.toString() },
    async exec(_server, sql) {
      const client = new pg.Client({ connectionString: url.toString() });
      await client.connect();
      await client.query(sql);
      await client.end();
    },
    async drop() {
      const client = new pg.Client({ connectionString: PG_ADMIN_URL });
      await client.connect();
      await client.query(`drop database if exists ${name} with (force)`);
      await client.end();
    },
  };
}

export async function tempSqlite(): Promise<TestDatabase> {
  return {
    env: {},
    async exec(server, sql) {
      if (server.config.database.kind !== "sqlite") throw new Error("not a SQLite server");
      const db = new Database(server.config.database.file);
      db.exec(sql);
      db.close();
    },
    drop: async () => undefined,
  };
}

/** Both metadata stores, for suites that must behave the same on each. */
export const DATABASES: [string, () => Promise<TestDatabase>][] = [
  ["SQLite", tempSqlite],
  ["PostgreSQL", tempPostgres],
];

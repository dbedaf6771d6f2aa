import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import BetterSqlite3 from "better-sqlite3";
import { Kysely, type SqliteDatabase, SqliteDialect } from "kysely";
import type { Database } from "./database.js";
import { KyselyStore } from "./kysely-store.js";

/**
 * The embedded default: one SQLite file via better-sqlite3. WAL lets readers run while a
 * write commits; `busy_timeout` waits out a brief lock instead of failing; `synchronous=NORMAL`
 * is durable against process crashes in WAL mode and much faster than FULL.
 */
export function openSqliteStore(file: string): KyselyStore {
  if (file !== ":memory:") mkdirSync(dirname(file), { recursive: true });
  const database = new BetterSqlite3(file);
  database.pragma("journal_mode = WAL");
  database.pragma("synchronous = NORMAL");
  database.pragma("busy_timeout = 5000");
  database.pragma("foreign_keys = ON");
  return new KyselyStore(new Kysely<Database>({ dialect: new SqliteDialect({ database: withStatementCache(database) }) }));
}

/** Enough for every distinct query the store runs (multi-row inserts count once per row count). */
const CACHED_STATEMENTS = 256;

/**
 * Kysely's SQLite driver prepares every query anew: a tenth of a presign's CPU under load went
 * to `prepare`. Statements are reused by their SQL text instead; Kysely runs one query at a
 * time on its single connection, so a statement is never in use twice at once, and SQLite
 * re-prepares a cached statement itself after a schema change (migrations).
 */
function withStatementCache(database: BetterSqlite3.Database): SqliteDatabase {
  const statements = new Map<string, BetterSqlite3.Statement>();
  return {
    close: () => database.close(),
    prepare(sql: string) {
      let statement = statements.get(sql);
      if (statement === undefined) {
        statement = database.prepare(sql);
        // Least recently used goes first: a Map iterates in insertion order.
        if (statements.size >= CACHED_STATEMENTS) statements.delete(statements.keys().next().value as string);
      } else {
        statements.delete(sql);
      }
      statements.set(sql, statement);
      return statement;
    },
  };
}

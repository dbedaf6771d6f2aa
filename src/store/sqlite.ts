import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import BetterSqlite3 from "better-sqlite3";
import { Kysely, SqliteDialect } from "kysely";
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
  return new KyselyStore(new Kysely<Database>({ dialect: new SqliteDialect({ database }) }));
}

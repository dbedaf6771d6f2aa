import type { DatabaseConfig } from "../config/schema.js";
import { openPostgresStore } from "./postgres.js";
import { openSqliteStore } from "./sqlite.js";
import type { MetadataStore } from "./store.js";

/** The metadata store the configuration names: SQLite (embedded default) or PostgreSQL. */
export function openStore(database: DatabaseConfig): MetadataStore {
  return database.kind === "postgres" ? openPostgresStore(database.url) : openSqliteStore(database.file);
}

/** A database location safe to print: no password. */
export function describeDatabase(database: DatabaseConfig): string {
  if (database.kind === "sqlite") return database.file;
  const url = new URL(database.url);
  if (url.password !== "") url.password = "***";
  return url.toString();
}

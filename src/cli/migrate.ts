import type { Config } from "../config/schema.js";
import { openSqliteStore } from "../store/sqlite.js";

/** `stowage migrate`: bring the metadata schema up to date and exit. */
export async function migrate(config: Config): Promise<void> {
  const store = openSqliteStore(config.database.file);
  try {
    await store.migrate();
    process.stdout.write(`Migrated ${config.database.file}\n`);
  } finally {
    await store.close();
  }
}

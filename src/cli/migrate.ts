import type { Config } from "../config/schema.js";
import { describeDatabase, openStore } from "../store/open.js";

/** `stowage migrate`: bring the metadata schema up to date and exit. */
export async function migrate(config: Config): Promise<void> {
  const store = openStore(config.database);
  try {
    await store.migrate();
    process.stdout.write(`Migrated ${describeDatabase(config.database)}\n`);
  } finally {
    await store.close();
  }
}

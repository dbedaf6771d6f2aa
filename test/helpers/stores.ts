import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openStore } from "../../src/store/open.js";
import type { MetadataStore } from "../../src/store/store.js";
import { tempPostgres } from "./databases.js";

export interface OpenedStore {
  store: MetadataStore;
  /** Another store on the same database (a second instance). */
  another: () => MetadataStore;
  drop: () => Promise<void>;
}

/**
 * The metadata store on each database the tests cover, for states the HTTP API cannot arrange:
 * `for (const [name, open] of STORES) describe(…)`. Each call makes a fresh database.
 */
export const STORES: readonly [string, () => Promise<OpenedStore>][] = [
  ["SQLite", async () => {
    const dir = mkdtempSync(join(tmpdir(), "stowage-store-"));
    const open = () => openStore({ kind: "sqlite", file: join(dir, "stowage.db") });
    return { store: open(), another: open, drop: async () => rmSync(dir, { recursive: true, force: true }) };
  }],
  ["PostgreSQL", async () => {
    const database = await tempPostgres();
    const open = () => openStore({ kind: "postgres", url: database.env.DATABASE_URL as string });
    return { store: open(), another: open, drop: () => database.drop() };
  }],
];

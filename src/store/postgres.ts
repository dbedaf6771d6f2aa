import { Kysely, PostgresDialect } from "kysely";
import pg from "pg";
import type { Database } from "./database.js";
import { KyselyStore } from "./kysely-store.js";

const INT8 = 20;

/**
 * PostgreSQL through a `pg` pool. BIGINT (sizes, epoch-ms times) comes back as a JS number:
 * every value we store is far below 2^53, and parsing per pool leaves the global `pg` types
 * alone for anything else in the process.
 */
export function openPostgresStore(connectionString: string, options: { max?: number } = {}): KyselyStore {
  const pool = new pg.Pool({
    connectionString,
    max: options.max ?? 10,
    connectionTimeoutMillis: 5000,
    types: {
      getTypeParser: ((oid: number, format?: "text" | "binary") =>
        oid === INT8 ? (value: string) => Number(value) : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
    },
  });
  // An idle client losing its connection (server restart) must not crash the process.
  pool.on("error", () => undefined);
  // Nor a client in use: it emits `error` besides failing its query, and pg-pool listens only
  // while a client is idle, so that event, unheard, ended the process. The query's rejection
  // carries the failure to the caller.
  pool.on("connect", (client) => client.on("error", () => undefined));
  return new KyselyStore(new Kysely<Database>({ dialect: new PostgresDialect({ pool }) }));
}

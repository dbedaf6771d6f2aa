import { randomBytes } from "node:crypto";
import pg from "pg";

/** The PostgreSQL server to create throw-away databases on (trust auth here, as in the tests). */
export const PG_ADMIN_URL = process.env.STOWAGE_TEST_PG_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";

export interface TempDatabase {
  url: string;
  drop(): Promise<void>;
}

/** A fresh PostgreSQL database for one benchmark run; dropped (with force) at the end. */
export async function tempPostgres(): Promise<TempDatabase> {
  const name = `stowage_bench_${randomBytes(6).toString("hex")}`;
  const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
  await admin.connect().catch((error: unknown) => {
    throw new Error(`PostgreSQL is not reachable at ${PG_ADMIN_URL} (set STOWAGE_TEST_PG_URL)`, { cause: error });
  });
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const client = new pg.Client({ connectionString: PG_ADMIN_URL });
      await client.connect();
      await client.query(`drop database if exists ${name} with (force)`);
      await client.end();
    },
  };
}

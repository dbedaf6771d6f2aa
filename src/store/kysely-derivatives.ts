import type { Kysely, Selectable } from "kysely";
import { isServable, statusesWhere } from "../uploads/lifecycle.js";
import type { Database, DerivativesTable } from "./database.js";
import type { DerivativeRecord, DerivativeStore } from "./derivative-store.js";
import { appendEvents } from "./kysely-outbox.js";
import { guardDb } from "./kysely-shared.js";

const SERVABLE = statusesWhere(isServable);

export class KyselyDerivativeStore implements DerivativeStore {
  readonly #db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  record(input: { derivative: DerivativeRecord; now: Date }): Promise<boolean> {
    const d = input.derivative;
    return guardDb(() =>
      this.#db.transaction().execute(async (trx) => {
        // Locks the upload row (PostgreSQL), so a delete committing meanwhile cannot miss this derivative.
        const upload = await trx
          .updateTable("uploads")
          .set((eb) => ({ status: eb.ref("status") }))
          .where("id", "=", d.uploadId)
          .where("status", "in", SERVABLE)
          .returningAll()
          .executeTakeFirst();
        if (upload === undefined) return false;
        const row = {
          upload_id: d.uploadId,
          name: d.name,
          state: d.state,
          bucket: d.bucket,
          key: d.key,
          content_type: d.contentType ?? null,
          width: d.width ?? null,
          height: d.height ?? null,
          size: d.size ?? null,
          error: d.error ?? null,
          created_at: d.createdAt.getTime(),
        };
        await trx
          .insertInto("derivatives")
          .values(row)
          .onConflict((oc) => oc.columns(["upload_id", "name"]).doUpdateSet(row))
          .execute();
        if (d.state === "ready") {
          const derivative = { name: d.name, width: d.width, height: d.height, contentType: d.contentType, key: d.key };
          await appendEvents(trx, [{ type: "derivative.ready", upload, extra: { derivative } }], input.now);
        }
        return true;
      }),
    );
  }

  listFor(uploadIds: readonly string[]): Promise<DerivativeRecord[]> {
    if (uploadIds.length === 0) return Promise.resolve([]);
    return guardDb(async () => {
      const rows = await this.#db.selectFrom("derivatives").selectAll().where("upload_id", "in", uploadIds).orderBy("name").execute();
      return rows.map(toDerivative);
    });
  }

  keptKeys(input: { buckets: readonly string[]; keys: readonly string[] }): Promise<Set<string>> {
    if (input.keys.length === 0 || input.buckets.length === 0) return Promise.resolve(new Set());
    return guardDb(async () => {
      const rows = await this.#db
        .selectFrom("derivatives")
        .select("key")
        .where("bucket", "in", input.buckets)
        .where("key", "in", input.keys)
        .execute();
      return new Set(rows.map((row) => row.key));
    });
  }
}

function toDerivative(row: Selectable<DerivativesTable>): DerivativeRecord {
  return {
    uploadId: row.upload_id,
    name: row.name,
    state: row.state,
    bucket: row.bucket,
    key: row.key,
    contentType: row.content_type ?? undefined,
    width: row.width ?? undefined,
    height: row.height ?? undefined,
    size: row.size === null ? undefined : Number(row.size),
    error: row.error ?? undefined,
    createdAt: new Date(Number(row.created_at)),
  };
}

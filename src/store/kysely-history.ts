import { type ExpressionBuilder, type Kysely, sql } from "kysely";
import { type Database, SETTLED_DELIVERIES } from "./database.js";
import { notRetained, unindexed } from "./kysely-shared.js";
import type { PurgeCursor, PurgedEvent, PurgedUpload } from "./sweeper-store.js";
import { isFinished, statusesWhere } from "../uploads/lifecycle.js";

/** What the purge may remove, from the domain model (`uploads/lifecycle.ts`); no literal here. */
const FINISHED = statusesWhere(isFinished);

/**
 * The history purge's queries (`SweeperStore.purge…`, `findPurgeable…`), for SQLite and
 * PostgreSQL alike; `KyselySweeperStore` delegates to these. Every purge is a DELETE of a batch
 * picked `FOR UPDATE SKIP LOCKED` on PostgreSQL (SQLite has one writer), so of two sweepers
 * each row is deleted, and returned, by exactly one.
 */
export class KyselyHistory {
  readonly #db: Kysely<Database>;
  readonly #postgres: boolean;

  constructor(db: Kysely<Database>, postgres: boolean) {
    this.#db = db;
    this.#postgres = postgres;
  }

  async purgeUploads(input: { finishedBefore: Date; after: PurgeCursor | undefined; limit: number; now: Date }): Promise<PurgedUpload[]> {
    const batch = this.#lockable(this.#uploads(input).select("id").limit(input.limit));
    const rows = await this.#db
      .deleteFrom("uploads")
      .where("id", "in", batch)
      .returning(["id", "bucket", "key", "finished_at"])
      .execute();
    // RETURNING gives no order; the caller's cursor wants the last one the scan reached.
    return rows.map(purgedUpload).sort((a, b) => a.finishedAt.getTime() - b.finishedAt.getTime() || (a.id < b.id ? -1 : 1));
  }

  async findPurgeableUploads(input: {
    finishedBefore: Date;
    after: PurgeCursor | undefined;
    limit: number;
    now: Date;
  }): Promise<PurgedUpload[]> {
    const rows = await this.#uploads(input).select(["id", "bucket", "key", "finished_at"]).limit(input.limit).execute();
    return rows.map(purgedUpload);
  }

  purgeEvents(input: { before: Date; after: string | undefined; limit: number }): Promise<PurgedEvent[]> {
    return this.#db.transaction().execute(async (trx) => {
      const rows = await this.#lockable(this.#events(trx, input).select(["id", "upload_id", "type"]).limit(input.limit)).execute();
      if (rows.length === 0) return [];
      const ids = rows.map((row) => row.id);
      await trx.deleteFrom("deliveries").where("event_id", "in", ids).execute();
      await trx.deleteFrom("events").where("id", "in", ids).execute();
      return rows.map(purgedEvent);
    });
  }

  async findPurgeableEvents(input: { before: Date; after: string | undefined; limit: number }): Promise<PurgedEvent[]> {
    const rows = await this.#events(this.#db, input).select(["id", "upload_id", "type"]).limit(input.limit).execute();
    return rows.map(purgedEvent);
  }

  async purgeLinks(input: { endedBefore: Date; limit: number }): Promise<string[]> {
    const batch = this.#lockable(this.#links(input.endedBefore).select("id").limit(input.limit));
    const rows = await this.#db.deleteFrom("upload_links").where("id", "in", batch).returning("id").execute();
    return rows.map((row) => row.id).sort();
  }

  async findPurgeableLinks(input: { endedBefore: Date; after: string | undefined; limit: number }): Promise<string[]> {
    let query = this.#links(input.endedBefore).select("id");
    if (input.after !== undefined) query = query.where("id", ">", input.after);
    return (await query.orderBy("id").limit(input.limit).execute()).map((row) => row.id);
  }

  /**
   * Finished rows past the window, in `finished_at` order from the cursor, with every guard.
   * The scan runs on `uploads_finished_idx` (partial: finished rows only), whose range is
   * `finished_at < finishedBefore`; the status term is hidden from the planners (`unindexed`),
   * else SQLite, which has no statistics, walks the status index instead. Rows kept by a guard
   * (staging, derivatives, an event in flight) stay at the front of that range; the cursor
   * steps past them, so each batch of a run starts where the last one stopped instead of
   * reading them again.
   */
  #uploads(input: { finishedBefore: Date; after: PurgeCursor | undefined; now: Date }) {
    const { after } = input;
    let query = this.#db
      .selectFrom("uploads")
      .where("finished_at", "<", input.finishedBefore.getTime())
      .where((eb) => unindexed(eb, "status", FINISHED))
      .where(notRetained(input.now))
      // Its staging object is still to be deleted (the staging job clears this column when it is).
      .where("staging_key", "is", null)
      // Holds a quota reservation: removing the row would leave its bytes reserved for good.
      .where("reserved", "=", 0)
      // Its thumbnails' rows name objects the orphan check keeps: they go first.
      .where((eb) => eb.not(eb.exists(eb.selectFrom("derivatives").select(sql.lit(1).as("one")).whereRef("derivatives.upload_id", "=", "uploads.id"))))
      // An event about it not yet fanned out, or with a delivery still in flight: a subscriber
      // may yet look the upload up (the scanner, the thumbnailer, a webhook's receiver).
      .where((eb) => eb.not(eb.exists(eb.selectFrom("events").select(sql.lit(1).as("one")).whereRef("events.upload_id", "=", "uploads.id").where(inFlight))));
    if (after?.at !== undefined) {
      const at = after.at.getTime();
      query = query.where("finished_at", ">=", at).where((eb) => eb.or([eb("finished_at", ">", at), eb("id", ">", after.id)]));
    }
    return query.orderBy("finished_at").orderBy("id");
  }

  /**
   * Events written before `before`, fanned out, with no delivery that is not settled. UUIDv7
   * ids are in write order, so the id bound puts the scan on `events_fan_out_idx`
   * (`fanned_out, id`), reading only old events; `created_at` says the same exactly.
   */
  #events(db: Kysely<Database>, input: { before: Date; after: string | undefined }) {
    let query = db
      .selectFrom("events")
      .where("fanned_out", "=", 1)
      .where("id", "<", idBefore(input.before))
      .where("created_at", "<", input.before.getTime())
      // `fanned_out = 1 AND NOT EXISTS`, not `NOT inFlight`: PostgreSQL turns `NOT (… OR EXISTS)`
      // into a hashed subplan that reads every unsettled delivery per batch; this stays an
      // anti-join on the deliveries' primary key.
      .where((eb) => eb.not(eb.exists(unsettled(eb))));
    if (input.after !== undefined) query = query.where("id", ">", input.after);
    return query.orderBy("id");
  }

  /** Links over (expired, or revoked) before `endedBefore`: each end has its own index (migration 0009). */
  #links(endedBefore: Date) {
    const at = endedBefore.getTime();
    return this.#db.selectFrom("upload_links").where((eb) => eb.or([eb("expires_at", "<", at), eb("revoked_at", "<", at)]));
  }

  #lockable<Q extends { forUpdate(): Q; skipLocked(): Q }>(query: Q): Q {
    return this.#postgres ? query.forUpdate().skipLocked() : query;
  }
}

/** An event still being told: not fanned out yet, or with a delivery not settled. */
function inFlight(eb: ExpressionBuilder<Database, "events">) {
  return eb.or([eb("events.fanned_out", "=", 0), eb.exists(unsettled(eb))]);
}

/** The event's deliveries that are not settled. */
function unsettled(eb: ExpressionBuilder<Database, "events">) {
  return eb
    .selectFrom("deliveries")
    .select(sql.lit(1).as("one"))
    .whereRef("deliveries.event_id", "=", "events.id")
    .where("deliveries.state", "not in", SETTLED_DELIVERIES);
}

/**
 * The smallest UUIDv7 of the millisecond `at` (RFC 9562: 48 bits of Unix milliseconds first,
 * then version 7 and the variant, the rest zero): every id made before `at` sorts below it.
 */
export function idBefore(at: Date): string {
  const hex = Math.max(0, at.getTime()).toString(16).padStart(12, "0");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-7000-8000-000000000000`;
}

function purgedUpload(row: { id: string; bucket: string; key: string; finished_at: number | null }): PurgedUpload {
  return { id: row.id, bucket: row.bucket, key: row.key, finishedAt: new Date(Number(row.finished_at)) };
}

function purgedEvent(row: { id: string; upload_id: string; type: string }): PurgedEvent {
  return { id: row.id, uploadId: row.upload_id, type: row.type };
}

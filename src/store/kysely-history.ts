import { type ExpressionBuilder, type Kysely, sql, type Transaction } from "kysely";
import { type Database, SETTLED_DELIVERIES } from "./database.js";
import { notRetained, unindexed } from "./kysely-shared.js";
import { advance, dueHolds, forgetGone, hold, withJobCursor } from "./kysely-purge-cursor.js";
import type { PurgeBatch, PurgeCursor, PurgedEvent, PurgedUpload } from "./sweeper-store.js";
import { isFinished, statusesWhere } from "../uploads/lifecycle.js";

/** What the purge may remove, from the domain model (`uploads/lifecycle.ts`); no literal here. */
const FINISHED = statusesWhere(isFinished);

/**
 * The history purge's queries (`SweeperStore.purge…`, `findPurgeable…`), for SQLite and
 * PostgreSQL alike; `KyselySweeperStore` delegates to these. The upload and outbox purges go on
 * from a cursor kept in `sweep_cursors`, one transaction a batch holding the job's cursor row
 * (`kysely-purge-cursor.ts`), so of two sweepers one works a job at a time and each row is
 * deleted, and returned, once. The links purge is a DELETE of a batch picked
 * `FOR UPDATE SKIP LOCKED` on PostgreSQL (SQLite has one writer).
 */
export class KyselyHistory {
  readonly #db: Kysely<Database>;
  readonly #postgres: boolean;

  constructor(db: Kysely<Database>, postgres: boolean) {
    this.#db = db;
    this.#postgres = postgres;
  }

  /** See `SweeperStore.purgeUploads`: the next batch from the `history` cursor. */
  async purgeUploads(input: { finishedBefore: Date; limit: number; now: Date }): Promise<PurgeBatch<PurgedUpload>> {
    const batch = await withJobCursor(this.#db, this.#postgres, "history", async (trx, cursor) => {
      // The scan: finished rows from the cursor on, on `uploads_finished_idx`. Starting at the
      // cursor, it never walks again the rows purged before it (their dead index entries stay
      // until vacuum) nor the ones held, which `purgeHeldUploads` checks on their own.
      let scan = trx
        .selectFrom("uploads")
        .select(["id", "finished_at", "retain_until"])
        .where("finished_at", "<", input.finishedBefore.getTime())
        .where((eb) => unindexed(eb, "status", FINISHED));
      const { at, id } = cursor;
      if (at !== null) scan = scan.where("finished_at", ">=", at).where((eb) => eb.or([eb("finished_at", ">", at), eb("id", ">", id)]));
      const rows = await scan.orderBy("finished_at").orderBy("id").limit(input.limit).execute();
      const last = rows.at(-1);
      if (last === undefined) return EMPTY;
      const purged = await deleteUploads(trx, rows.map((row) => row.id), input.now);
      const gone = new Set(purged.map((row) => row.id));
      const kept = rows.filter((row) => !gone.has(row.id));
      await hold(trx, "history", kept.map((row) => ({ id: row.id, recheckAt: recheckAt(row.retain_until, input.now) })));
      await advance(trx, "history", { at: Number(last.finished_at), id: last.id }, input.now);
      return { purged, read: rows.length, last: last.id, busy: false };
    });
    return batch ?? BUSY;
  }

  /** See `SweeperStore.purgeHeldUploads`. */
  async purgeHeldUploads(input: { after: string | undefined; limit: number; now: Date }): Promise<PurgeBatch<PurgedUpload>> {
    // A look first, without the lock: most runs have nothing held that is due.
    if ((await dueHolds(this.#db, "history", { ...input, limit: 1 })).length === 0) return EMPTY;
    const batch = await withJobCursor(this.#db, this.#postgres, "history", async (trx) => {
      const ids = await dueHolds(trx, "history", input);
      if (ids.length === 0) return EMPTY;
      const purged = await deleteUploads(trx, ids, input.now);
      await forgetGone(trx, "history", "uploads", ids);
      // Still held: checked again at the end of its retention if that is what holds it, else every run.
      const retainedUntil = sql<number>`(select retain_until from uploads where uploads.id = purge_holds.id and retain_until > ${input.now.getTime()})`;
      await trx
        .updateTable("purge_holds")
        .set({ recheck_at: sql<number>`coalesce(${retainedUntil}, 0)` })
        .where("job", "=", "history")
        .where("id", "in", ids)
        .execute();
      return { purged, read: ids.length, last: ids.at(-1), busy: false };
    });
    return batch ?? BUSY;
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

  /** See `SweeperStore.purgeEvents`: the next batch from the `outbox` cursor. */
  async purgeEvents(input: { before: Date; limit: number; now: Date }): Promise<PurgeBatch<PurgedEvent>> {
    const batch = await withJobCursor(this.#db, this.#postgres, "outbox", async (trx, cursor) => {
      // An id range on the primary key from the cursor: UUIDv7 ids are in write order, so this
      // reads only the events that became old since the last batch.
      const rows = await trx
        .selectFrom("events")
        .select("id")
        .where("id", ">", cursor.id)
        .where("id", "<", idBefore(input.before))
        .orderBy("id")
        .limit(input.limit)
        .execute();
      const last = rows.at(-1)?.id;
      if (last === undefined) return EMPTY;
      const ids = rows.map((row) => row.id);
      const purged = await this.#deleteEvents(trx, ids, input.before);
      const gone = new Set(purged.map((row) => row.id));
      await hold(trx, "outbox", ids.filter((id) => !gone.has(id)).map((id) => ({ id, recheckAt: 0 })));
      await advance(trx, "outbox", { at: null, id: last }, input.now);
      return { purged, read: ids.length, last, busy: false };
    });
    return batch ?? BUSY;
  }

  /** See `SweeperStore.purgeHeldEvents`. */
  async purgeHeldEvents(input: { before: Date; after: string | undefined; limit: number; now: Date }): Promise<PurgeBatch<PurgedEvent>> {
    if ((await dueHolds(this.#db, "outbox", { ...input, limit: 1 })).length === 0) return EMPTY;
    const batch = await withJobCursor(this.#db, this.#postgres, "outbox", async (trx) => {
      const ids = await dueHolds(trx, "outbox", input);
      if (ids.length === 0) return EMPTY;
      const purged = await this.#deleteEvents(trx, ids, input.before);
      await forgetGone(trx, "outbox", "events", ids);
      return { purged, read: ids.length, last: ids.at(-1), busy: false };
    });
    return batch ?? BUSY;
  }

  /**
   * Deletes, of `ids`, the events written before `before` that are fanned out with every delivery
   * settled, and their delivery rows. Locked `FOR UPDATE` on PostgreSQL (waiting, not skipping: a
   * delivery written meanwhile must be seen), and checked again under the lock.
   */
  async #deleteEvents(trx: Transaction<Database>, ids: readonly string[], before: Date): Promise<PurgedEvent[]> {
    let query = trx
      .selectFrom("events")
      .select(["id", "upload_id", "type"])
      .where("id", "in", ids)
      .where("created_at", "<", before.getTime())
      .where("fanned_out", "=", 1)
      .where((eb) => eb.not(eb.exists(unsettled(eb))));
    if (this.#postgres) query = query.forUpdate();
    const rows = await query.orderBy("id").execute();
    if (rows.length === 0) return [];
    const deleting = rows.map((row) => row.id);
    await trx.deleteFrom("deliveries").where("event_id", "in", deleting).execute();
    await trx.deleteFrom("events").where("id", "in", deleting).execute();
    return rows.map(purgedEvent);
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
   * A dry run's read: finished rows past the window, in `finished_at` order from its own cursor,
   * with every guard, from the start of the range (behind the stored cursor too: the rows held
   * there are exactly those a real run checks again). The scan runs on `uploads_finished_idx`
   * (partial: finished rows only), whose range is `finished_at < finishedBefore`; the status term
   * is hidden from the planners (`unindexed`), else SQLite, which has no statistics, walks the
   * status index instead.
   */
  #uploads(input: { finishedBefore: Date; after: PurgeCursor | undefined; now: Date }) {
    const { after } = input;
    let query = this.#db
      .selectFrom("uploads")
      .where("finished_at", "<", input.finishedBefore.getTime())
      .where((eb) => unindexed(eb, "status", FINISHED))
      .where(purgeable(input.now));
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

/** A batch found nothing; another sweeper holds the job. */
const EMPTY = { purged: [], read: 0, last: undefined, busy: false } as const satisfies PurgeBatch<never>;
const BUSY = { purged: [], read: 0, last: undefined, busy: true } as const satisfies PurgeBatch<never>;

/** A finished row that nothing needs any more: every guard of the purge (`SweeperStore.purgeUploads`). */
function purgeable(now: Date) {
  return (eb: ExpressionBuilder<Database, "uploads">) =>
    eb.and([
      notRetained(now)(eb),
      // Its staging object is still to be deleted (the staging job clears this column when it is).
      eb("staging_key", "is", null),
      // Holds a quota reservation: removing the row would leave its bytes reserved for good.
      eb("reserved", "=", 0),
      // Its thumbnails' rows name objects the orphan check keeps: they go first.
      eb.not(eb.exists(eb.selectFrom("derivatives").select(sql.lit(1).as("one")).whereRef("derivatives.upload_id", "=", "uploads.id"))),
      // An event about it not yet fanned out, or with a delivery still in flight: a subscriber
      // may yet look the upload up (the scanner, the thumbnailer, a webhook's receiver).
      eb.not(eb.exists(eb.selectFrom("events").select(sql.lit(1).as("one")).whereRef("events.upload_id", "=", "uploads.id").where(inFlight))),
    ]);
}

/**
 * Deletes, of `ids`, the finished rows nothing needs (the guards checked again by the DELETE
 * itself, so a row that changed since it was read is judged as it is now); oldest first.
 */
async function deleteUploads(trx: Transaction<Database>, ids: readonly string[], now: Date): Promise<PurgedUpload[]> {
  const rows = await trx
    .deleteFrom("uploads")
    .where("id", "in", ids)
    .where((eb) => unindexed(eb, "status", FINISHED))
    .where(purgeable(now))
    .returning(["id", "bucket", "key", "finished_at"])
    .execute();
  // RETURNING gives no order; reports read better oldest first.
  return rows.map(purgedUpload).sort((a, b) => a.finishedAt.getTime() - b.finishedAt.getTime() || (a.id < b.id ? -1 : 1));
}

/** When a kept row is due for its next check: the end of its retention, if that is what keeps it; else the next run. */
function recheckAt(retainUntil: number | null, now: Date): number {
  return retainUntil !== null && Number(retainUntil) > now.getTime() ? Number(retainUntil) : 0;
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

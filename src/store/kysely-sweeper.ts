import {
  type ExpressionBuilder,
  type Kysely,
  type Selectable,
  type SelectQueryBuilder,
  type Transaction,
  type Updateable,
} from "kysely";
import type { Database, UploadsTable } from "./database.js";
import { dropReservations, refundQuota } from "./kysely-quotas.js";
import { guardDb, isPostgres, notRetained, type Term, toRecord, unindexed } from "./kysely-shared.js";
import { appendEvents } from "./kysely-outbox.js";
import { EVENT_OF_STATUS } from "../uploads/events.js";
import { type UploadRecord } from "../uploads/record.js";
import { isAwaitingUpload, isLive, isScanning, isServable, sourcesOf, statusesWhere } from "../uploads/lifecycle.js";
import type { UploadStatus } from "../uploads/status.js";
import { quotaSubjects } from "./quota.js";
import { KyselyHistory } from "./kysely-history.js";
import type { ConfirmedRule, PurgeBatch, PurgeCursor, PurgedEvent, PurgedUpload, SweeperStore } from "./sweeper-store.js";

type Uploads = ExpressionBuilder<Database, "uploads">;

/** The states each job selects, from the domain model (`uploads/lifecycle.ts`); no literal here. */
const AWAITING = statusesWhere(isAwaitingUpload);
const SERVABLE = statusesWhere(isServable);
const LIVE = statusesWhere(isLive);
/** Their staging object is still needed: the client may write it, or the scanner has yet to read it. */
const NEEDS_STAGING = statusesWhere((status) => isAwaitingUpload(status) || isScanning(status));
/** What the sweeper may expire: awaiting an upload (abandoned), or servable (rules, missing objects). */
const EXPIRABLE_ABANDONED = AWAITING.filter((status) => sourcesOf("expired").includes(status));
const EXPIRABLE_SERVED = SERVABLE.filter((status) => sourcesOf("expired").includes(status));

/**
 * The sweeper's queries on Kysely, for SQLite and PostgreSQL alike. A claim is one statement,
 * `WITH batch AS (SELECT id … LIMIT n) UPDATE uploads SET status = 'expired' FROM batch
 * WHERE uploads.id = batch.id AND uploads.status = … RETURNING uploads.*`: the status guard makes
 * the state change itself the claim, so a row taken by one sweeper is gone for every other.
 * PostgreSQL adds `FOR UPDATE SKIP LOCKED` to the batch, so concurrent sweepers take disjoint
 * batches instead of waiting on each other's rows and then matching nothing (a row changed by
 * another transaction meanwhile is re-checked against the batch's WHERE before it is locked);
 * SQLite has one writer and no row locks, and runs the statement atomically.
 *
 * Why a CTE joined on the primary key and not `WHERE id IN (subquery) AND status = …`: with the
 * status term in the outer WHERE, both planners drive the update from the status index and walk
 * every remaining pending row for each batch (measured: sweeping 100 000 rows went quadratic).
 * Joining the batch on the key makes each statement cost its batch size, however large the table.
 */
export class KyselySweeperStore implements SweeperStore {
  readonly #db: Kysely<Database>;
  readonly #postgres: boolean;
  readonly #history: KyselyHistory;

  constructor(db: Kysely<Database>) {
    this.#db = db;
    // Kysely has no public dialect accessor; the adapter tells PostgreSQL from SQLite.
    this.#postgres = isPostgres(db);
    this.#history = new KyselyHistory(db, this.#postgres);
  }

  claimAbandoned(input: { expiredBefore: Date; limit: number; now: Date }): Promise<UploadRecord[]> {
    return guardDb(() =>
      this.#db.transaction().execute(async (trx) => {
        const batch = trx
          .selectFrom("uploads")
          .select("id")
          .where("status", "in", EXPIRABLE_ABANDONED)
          .where("expires_at", "<", input.expiredBefore.getTime())
          .limit(input.limit);
        const rows = await this.#claim(trx, this.#lockable(batch), EXPIRABLE_ABANDONED, { status: "expired", deleted_at: input.now.getTime(), finished_at: input.now.getTime() });
        await dropReservations(trx, rows.map((row) => row.id), input.now);
        const expired = rows.map((row) => ({ ...toRecord(row), reserved: false }));
        await appendEvents(trx, expired.map((upload) => ({ type: EVENT_OF_STATUS.expired, upload })), input.now);
        return expired;
      }),
    );
  }

  releaseReservations(input: { expiredBefore: Date; limit: number; now: Date }): Promise<UploadRecord[]> {
    return guardDb(() =>
      this.#db.transaction().execute(async (trx) => {
        const batch = trx
          .selectFrom("uploads")
          .selectAll()
          .where("reserved", "=", 1)
          .where("status", "in", AWAITING)
          .where("expires_at", "<", input.expiredBefore.getTime())
          .limit(input.limit);
        const rows = await this.#lockable(batch).execute();
        await dropReservations(trx, rows.map((row) => row.id), input.now);
        return rows.map((row) => ({ ...toRecord(row), reserved: false }));
      }),
    );
  }

  findReservations(input: { expiredBefore: Date; after: string | undefined; limit: number }): Promise<UploadRecord[]> {
    return guardDb(async () => {
      const query = this.#db
        .selectFrom("uploads")
        .selectAll()
        .where("reserved", "=", 1)
        .where("status", "in", AWAITING)
        .where("expires_at", "<", input.expiredBefore.getTime());
      return (await byId(query, input)).map(toRecord);
    });
  }

  findStaged(input: { expiredBefore: Date; after: string | undefined; limit: number }): Promise<UploadRecord[]> {
    return guardDb(async () => {
      const query = this.#db
        .selectFrom("uploads")
        .selectAll()
        .where("staging_key", "is not", null)
        .where("status", "not in", NEEDS_STAGING)
        .where("expires_at", "<", input.expiredBefore.getTime());
      return (await byId(query, input)).map(toRecord);
    });
  }

  clearStaging(input: { rows: readonly { id: string; stagingKey: string }[] }): Promise<void> {
    if (input.rows.length === 0) return Promise.resolve();
    return guardDb(async () => {
      // Each row only if it still names the key that was deleted: one statement for the batch.
      await this.#db
        .updateTable("uploads")
        .set({ staging_bucket: null, staging_key: null })
        .where((eb) => eb.or(input.rows.map((row) => eb.and([eb("id", "=", row.id), eb("staging_key", "=", row.stagingKey)]))))
        .execute();
    });
  }

  findAbandoned(input: { expiredBefore: Date; after: string | undefined; limit: number }): Promise<UploadRecord[]> {
    return guardDb(async () => {
      const query = this.#db
        .selectFrom("uploads")
        .selectAll()
        .where((eb) => unindexed(eb, "status", AWAITING))
        .where("expires_at", "<", input.expiredBefore.getTime());
      return (await byId(query, input)).map(toRecord);
    });
  }

  expireConfirmed(input: { rule: ConfirmedRule; limit: number; now: Date }): Promise<UploadRecord[]> {
    return guardDb(() =>
      this.#db.transaction().execute(async (trx) => {
        const batch = trx.selectFrom("uploads").select("id").where(ruleFilter(input.rule, input.now, indexed)).limit(input.limit);
        const rows = await this.#claim(trx, this.#lockable(batch), EXPIRABLE_SERVED, { status: "expired", deleted_at: input.now.getTime(), finished_at: input.now.getTime() });
        await refundRows(trx, rows, input.now);
        await appendEvents(trx, rows.map((row) => ({ type: EVENT_OF_STATUS.expired, upload: row })), input.now);
        return rows.map(toRecord);
      }),
    );
  }

  findConfirmed(input: { rule: ConfirmedRule; after: string | undefined; limit: number; now: Date }): Promise<UploadRecord[]> {
    return guardDb(async () => {
      const query = this.#db.selectFrom("uploads").selectAll().where(ruleFilter(input.rule, input.now, unindexed));
      return (await byId(query, input)).map(toRecord);
    });
  }

  pageConfirmed(input: { after: string | undefined; upTo?: string | undefined; limit: number }): Promise<UploadRecord[]> {
    return guardDb(async () => {
      let query = this.#db.selectFrom("uploads").selectAll().where((eb) => unindexed(eb, "status", SERVABLE));
      if (input.upTo !== undefined) query = query.where("id", "<=", input.upTo);
      return (await byId(query, input)).map(toRecord);
    });
  }

  sweepCursor(job: string): Promise<string | undefined> {
    return guardDb(async () => {
      const row = await this.#db.selectFrom("sweep_cursors").select("after_id").where("job", "=", job).executeTakeFirst();
      return row?.after_id;
    });
  }

  saveSweepCursor(input: { job: string; after: string; now: Date }): Promise<void> {
    return guardDb(async () => {
      await this.#db
        .insertInto("sweep_cursors")
        .values({ job: input.job, after_id: input.after, updated_at: input.now.getTime() })
        .onConflict((oc) => oc.column("job").doUpdateSet({ after_id: input.after, updated_at: input.now.getTime() }))
        .execute();
    });
  }

  expireMissing(input: { ids: readonly string[]; code: string; reason: string; now: Date }): Promise<UploadRecord[]> {
    if (input.ids.length === 0) return Promise.resolve([]);
    return guardDb(() =>
      this.#db.transaction().execute(async (trx) => {
        const batch = trx.selectFrom("uploads").select("id").where("id", "in", input.ids).where(notRetained(input.now));
        const rows = await this.#claim(trx, this.#lockable(batch), EXPIRABLE_SERVED, {
          status: "expired",
          reject_code: input.code,
          reject_reason: input.reason,
          deleted_at: input.now.getTime(),
          finished_at: input.now.getTime(),
        });
        await refundRows(trx, rows, input.now);
        await appendEvents(trx, rows.map((row) => ({ type: EVENT_OF_STATUS.expired, upload: row })), input.now);
        return rows.map(toRecord);
      }),
    );
  }

  keptKeys(input: { buckets: readonly string[]; keys: readonly string[]; now: Date }): Promise<Set<string>> {
    if (input.keys.length === 0 || input.buckets.length === 0) return Promise.resolve(new Set());
    return guardDb(async () => {
      const rows = await this.#db
        .selectFrom("uploads")
        .select("key")
        .where("bucket", "in", input.buckets)
        .where("key", "in", input.keys)
        .where((eb) => eb.or([eb("status", "in", LIVE), eb("retain_until", ">", input.now.getTime())]))
        .execute();
      // A staging object is kept while its row still names it (the staging job clears that).
      const staged = await this.#db
        .selectFrom("uploads")
        .select("staging_key")
        .where("staging_bucket", "in", input.buckets)
        .where("staging_key", "in", input.keys)
        .execute();
      // A derivative is kept while its upload is live.
      const derived = await this.#db
        .selectFrom("derivatives")
        .innerJoin("uploads", "uploads.id", "derivatives.upload_id")
        .select("derivatives.key")
        .where("derivatives.bucket", "in", input.buckets)
        .where("derivatives.key", "in", input.keys)
        .where("uploads.status", "in", LIVE)
        .execute();
      return new Set([
        ...rows.map((row) => row.key),
        ...staged.flatMap((row) => (row.staging_key === null ? [] : [row.staging_key])),
        ...derived.map((row) => row.key),
      ]);
    });
  }

  purgeUploads(input: { finishedBefore: Date; limit: number; now: Date }): Promise<PurgeBatch<PurgedUpload>> {
    return guardDb(() => this.#history.purgeUploads(input));
  }

  purgeHeldUploads(input: { after: string | undefined; limit: number; now: Date }): Promise<PurgeBatch<PurgedUpload>> {
    return guardDb(() => this.#history.purgeHeldUploads(input));
  }

  findPurgeableUploads(input: { finishedBefore: Date; after: PurgeCursor | undefined; limit: number; now: Date }): Promise<PurgedUpload[]> {
    return guardDb(() => this.#history.findPurgeableUploads(input));
  }

  purgeEvents(input: { before: Date; limit: number; now: Date }): Promise<PurgeBatch<PurgedEvent>> {
    return guardDb(() => this.#history.purgeEvents(input));
  }

  purgeHeldEvents(input: { before: Date; after: string | undefined; limit: number; now: Date }): Promise<PurgeBatch<PurgedEvent>> {
    return guardDb(() => this.#history.purgeHeldEvents(input));
  }

  findPurgeableEvents(input: { before: Date; after: string | undefined; limit: number }): Promise<PurgedEvent[]> {
    return guardDb(() => this.#history.findPurgeableEvents(input));
  }

  purgeLinks(input: { endedBefore: Date; limit: number }): Promise<string[]> {
    return guardDb(() => this.#history.purgeLinks(input));
  }

  findPurgeableLinks(input: { endedBefore: Date; after: string | undefined; limit: number }): Promise<string[]> {
    return guardDb(() => this.#history.findPurgeableLinks(input));
  }

  /** Moves the rows of `batch` that are still in `from` to the values of `set`; returns them. */
  #claim(
    db: Kysely<Database>,
    batch: SelectQueryBuilder<Database, "uploads", { id: string }>,
    from: readonly UploadStatus[],
    set: Updateable<UploadsTable>,
  ): Promise<Selectable<UploadsTable>[]> {
    const update = db
      .with("batch", () => batch)
      .updateTable("uploads")
      .set(set)
      .from("batch")
      .whereRef("uploads.id", "=", "batch.id")
      .where("uploads.status", "in", from);
    // PostgreSQL's `RETURNING *` would add the batch's columns; SQLite's names only the updated
    // table's, and refuses `uploads.*`.
    return this.#postgres ? update.returningAll("uploads").execute() : update.returningAll().execute();
  }

  #lockable<Q extends { forUpdate(): Q; skipLocked(): Q }>(query: Q): Q {
    return this.#postgres ? query.forUpdate().skipLocked() : query;
  }
}

function ruleFilter(rule: ConfirmedRule, now: Date, term: Term) {
  return (eb: Uploads) =>
    eb.and([
      term(eb, "owner_type", rule.ownerType),
      term(eb, "status", SERVABLE),
      eb("confirmed_at", "<", rule.confirmedBefore.getTime()),
      notRetained(now)(eb),
      ...(rule.unattachedOnly ? [eb("attached_at", "is", null)] : []),
    ]);
}

const indexed: Term = (eb, column, values) => (typeof values === "string" ? eb(column, "=", values) : eb(column, "in", values));

/** One keyset page: rows after the id `after`, in id order. */
function byId<Q extends SelectQueryBuilder<Database, "uploads", Selectable<UploadsTable>>>(
  query: Q,
  page: { after: string | undefined; limit: number },
) {
  const from = page.after === undefined ? query : query.where("id", ">", page.after);
  return from.orderBy("id").limit(page.limit).execute();
}

/**
 * Gives the rows' bytes back, one UPDATE per quota subject rather than per row. Subjects go in
 * sorted order so two sweepers refunding overlapping subjects lock them in the same order and
 * cannot deadlock each other.
 */
async function refundRows(trx: Transaction<Database>, rows: readonly Selectable<UploadsTable>[], now: Date): Promise<void> {
  const bySubject = new Map<string, number>();
  for (const row of rows) {
    if (row.size === null) continue;
    for (const subject of quotaSubjects(row.user_id, row.org_id)) {
      bySubject.set(subject, (bySubject.get(subject) ?? 0) + Number(row.size));
    }
  }
  for (const subject of [...bySubject.keys()].sort()) {
    await refundQuota(trx, [subject], bySubject.get(subject) ?? 0, now);
  }
}

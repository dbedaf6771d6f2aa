import { type Kysely, Migrator, type Selectable, sql } from "kysely";
import type { Database, UploadsTable } from "./database.js";
import { addDelta, applyQuotaDeltas, chargeQuota, dropReservation, type QuotaDelta, refundQuota, usageOf } from "./kysely-quotas.js";
import { admitReservations } from "./kysely-reservations.js";
import { guardDb, isConstraintViolation, isDeadlock, move, toRecord } from "./kysely-shared.js";
import { confirmReserved, type ConfirmRequest } from "./kysely-confirms.js";
import { KyselySweeperStore } from "./kysely-sweeper.js";
import { TickBatch } from "./tick-batch.js";
import { migrationProvider } from "./migrations/index.js";
import { type NewUpload, type UploadRecord } from "../uploads/record.js";
import { type UploadStatus } from "../uploads/status.js";
import { type QuotaCharge, type QuotaUsage, quotaSubjects } from "./quota.js";
import type { AttachOutcome, ConfirmOutcome, CreateOutcome, MetadataStore } from "./store.js";
import { appendEvents, type NewEvent } from "./kysely-outbox.js";
import { KyselyDerivativeStore } from "./kysely-derivatives.js";
import { KyselyEventStore } from "./kysely-events.js";
import { KyselyLinkStore, withinUses } from "./kysely-links.js";
import { EVENT_OF_STATUS } from "../uploads/events.js";
import { INITIAL_STATUS, isAwaitingUpload, isListed, isServable, statusesWhere } from "../uploads/lifecycle.js";

const LISTED = statusesWhere(isListed);
const SERVABLE = statusesWhere(isServable);
/** Only an upload still awaiting its bytes gives its reservation back when its URL expires; a scanning one keeps it. */
const AWAITING = statusesWhere(isAwaitingUpload);

/**
 * The metadata store on Kysely: the same queries for SQLite and PostgreSQL. A presign reserves
 * its declared size with one conditional upsert (`used + reserved + size <= limit`) in the
 * transaction that inserts the upload; the transaction that confirms it (with the other confirms
 * of its event-loop turn) turns the reservation into usage, and every other way out of `pending`
 * gives it back. Never read-then-write, so
 * concurrent requests cannot overshoot a limit (see `kysely-quotas.ts`).
 */
export class KyselyStore implements MetadataStore {
  readonly #db: Kysely<Database>;
  readonly sweeper: KyselySweeperStore;
  readonly events: KyselyEventStore;
  readonly derivatives: KyselyDerivativeStore;
  readonly links: KyselyLinkStore;

  readonly #inserts = new TickBatch<NewUpload, UploadRecord>((uploads) => this.#insertUploads(uploads), {
    max: 100,
    retryAlone: isConstraintViolation,
  });

  readonly #creates = new TickBatch<{ upload: NewUpload; reserve: readonly QuotaCharge[]; now: Date }, CreateOutcome>(
    (inputs) => this.#createUploads(inputs),
    // A bad row (a duplicate key) fails the batch's transaction as a whole; alone, only its own.
    // Two transactions out at most: under load the next group gathers what arrives meanwhile.
    { max: 100, retryAlone: isConstraintViolation, maxInFlight: 2 },
  );

  readonly #confirms = new TickBatch<ConfirmInput, ConfirmOutcome | undefined>((inputs) => this.#confirmBatch(inputs), {
    max: 100,
    // One UPDATE over many upload rows locks them in no set order: with another transaction over
    // the same rows (the same uploads confirmed on two instances at once, a sweep releasing them)
    // it can deadlock. PostgreSQL aborts one; an aborted batch's confirms then go one by one.
    retryAlone: isDeadlock,
    // As presigns: two batches out at most, the next gathering what arrives meanwhile.
    maxInFlight: 2,
  });

  readonly #usageReads = new TickBatch<QuotaCharge, QuotaUsage>((charges) => this.#readUsages(charges), { max: 100 });

  constructor(db: Kysely<Database>) {
    this.#db = db;
    this.sweeper = new KyselySweeperStore(db);
    this.events = new KyselyEventStore(db);
    this.derivatives = new KyselyDerivativeStore(db);
    this.links = new KyselyLinkStore(db);
  }

  async migrate(): Promise<void> {
    const migrator = new Migrator({ db: this.#db, provider: migrationProvider });
    const { error, results } = await migrator.migrateToLatest();
    const failed = results?.find((r) => r.status === "Error");
    if (error !== undefined || failed !== undefined) {
      throw new Error(`Migration ${failed?.migrationName ?? ""} failed`, { cause: error });
    }
  }

  /** Presigns of one event-loop turn share one transaction of three statements (see admitReservations). */
  createUpload(input: { upload: NewUpload; reserve: readonly QuotaCharge[]; now: Date }): Promise<CreateOutcome> {
    return this.#creates.add(input);
  }

  #createUploads(inputs: readonly { upload: NewUpload; reserve: readonly QuotaCharge[]; now: Date }[]): Promise<CreateOutcome[]> {
    return guardDb(() =>
      this.#db.transaction().execute(async (trx) => {
        const now = inputs.reduce((latest, input) => (input.now > latest ? input.now : latest), new Date(0));
        // The rows go in first, before any quota row is locked, so the locks are held for as
        // short a time as the transaction allows; the few refused ones are taken out again.
        const rows = inputs.map((input) => ({ ...uploadRow(input.upload), reserved: 1 }));
        await trx.insertInto("uploads").values(rows).execute();
        // Links before quotas (the order every transaction takes them in): a use refused holds no reservation.
        const linkRefusals = await this.links.admit(trx, inputs.map((input) => ({ linkId: input.upload.linkId })), now);
        const admitted = inputs.filter((_, i) => linkRefusals[i] === undefined);
        const requests = admitted.map((input) => ({ size: input.upload.declaredSize, reserve: input.reserve }));
        const reservations = await admitReservations(trx, requests, now);
        let next = 0;
        const refusals = linkRefusals.map((reason): CreateOutcome | undefined =>
          reason === undefined ? reservations[next++] : { kind: "link-refused", reason },
        );
        const refused = rows.filter((_, i) => refusals[i] !== undefined).map((row) => row.id);
        if (refused.length > 0) await trx.deleteFrom("uploads").where("id", "in", refused).execute();
        return rows.map((row, i): CreateOutcome => refusals[i] ?? { kind: "created", upload: toRecord(row) });
      }),
    );
  }

  releaseExpiredReservations(input: { userId?: string | undefined; orgId?: string | undefined; now: Date }): Promise<number> {
    if (input.userId === undefined && input.orgId === undefined) return Promise.resolve(0);
    return guardDb(() =>
      this.#db.transaction().execute(async (trx) => {
        // `reserved = 1` is the claim: a row released by a concurrent call is not released twice.
        let query = trx
          .updateTable("uploads")
          .set({ reserved: 0 })
          .where("reserved", "=", 1)
          .where("status", "in", AWAITING)
          .where("expires_at", "<", input.now.getTime());
        if (input.userId !== undefined) query = query.where("user_id", "=", input.userId);
        if (input.orgId !== undefined) query = query.where("org_id", "=", input.orgId);
        const rows = await query.returning(["user_id", "org_id", "declared_size"]).execute();
        const deltas = new Map<string, QuotaDelta>();
        for (const row of rows) {
          for (const subject of quotaSubjects(row.user_id, row.org_id)) {
            addDelta(deltas, subject, { reserved: -Number(row.declared_size), pending: -1 });
          }
        }
        await applyQuotaDeltas(trx, deltas, input.now);
        return rows.length;
      }),
    );
  }

  /** Inserts of one event-loop turn share one multi-row INSERT (see TickBatch). */
  insertUpload(upload: NewUpload): Promise<UploadRecord> {
    return this.#inserts.add(upload);
  }

  #insertUploads(uploads: readonly NewUpload[]): Promise<UploadRecord[]> {
    return guardDb(async () => {
      const rows = uploads.map(uploadRow);
      // Every column is given, so the record is known without reading it back (no RETURNING).
      await this.#db.insertInto("uploads").values(rows).execute();
      return rows.map(toRecord);
    });
  }

  findUpload(id: string): Promise<UploadRecord | undefined> {
    return guardDb(async () => {
      const row = await this.#db
        .selectFrom("uploads")
        .selectAll()
        .where("id", "=", id)
        .executeTakeFirst();
      return row === undefined ? undefined : toRecord(row);
    });
  }

  findUploadByKey(query: { userId: string; key: string }): Promise<UploadRecord | undefined> {
    return guardDb(async () => {
      // Newest first: a key names one upload, but a deleted one's key may have been written again.
      const row = await this.#db
        .selectFrom("uploads")
        .selectAll()
        .where("user_id", "=", query.userId)
        .where("key", "=", query.key)
        .orderBy("id", "desc")
        .executeTakeFirst();
      return row === undefined ? undefined : toRecord(row);
    });
  }

  listUploads(query: {
    userId: string;
    ownerType?: string | undefined;
    before?: string | undefined;
    limit: number;
  }): Promise<UploadRecord[]> {
    return guardDb(async () => {
      let q = this.#db
        .selectFrom("uploads")
        .selectAll()
        .where("user_id", "=", query.userId)
        .where("status", "in", LISTED);
      if (query.ownerType !== undefined) q = q.where("owner_type", "=", query.ownerType);
      if (query.before !== undefined) q = q.where("id", "<", query.before);
      const rows = await q.orderBy("id", "desc").limit(query.limit).execute();
      return rows.map(toRecord);
    });
  }

  /** Reads of one event-loop turn share one `WHERE subject IN (…)` (see TickBatch). */
  usage(charge: QuotaCharge): Promise<QuotaUsage> {
    return this.#usageReads.add(charge);
  }

  #readUsages(charges: readonly QuotaCharge[]): Promise<QuotaUsage[]> {
    return guardDb(async () => {
      const subjects = [...new Set(charges.map((c) => c.subject))];
      const rows = await this.#db
        .selectFrom("quotas")
        .select(["subject", "used_bytes", "reserved_bytes", "pending_count", "limit_bytes"])
        .where("subject", "in", subjects)
        .execute();
      const bySubject = new Map(rows.map((row) => [row.subject, row]));
      return charges.map((charge) => usageOf(charge, bySubject.get(charge.subject)));
    });
  }

  /**
   * Confirms of one event-loop turn share one transaction (see #confirmBatch): under load, one
   * commit and one quota update per batch, not per confirm. A confirm through a link's late use
   * (it must lock and count the link's uses first), and one the batch could not take (not in
   * state, its reservation given back), go through #confirmAlone.
   */
  async confirmUpload(input: ConfirmInput): Promise<ConfirmOutcome> {
    if (input.lateLink !== undefined) return this.#confirmAlone(input);
    return (await this.#confirms.add(input)) ?? this.#confirmAlone(input);
  }

  /**
   * One transaction for a batch of confirms: the uploads that still hold their reservation are
   * confirmed in one UPDATE, their events written, and then, last, every quota row they touch
   * updated at once. Last, because an organization's row is every member's: locked for one
   * statement and the commit only. Undefined for each upload it did not confirm.
   */
  #confirmBatch(inputs: readonly ConfirmInput[]): Promise<(ConfirmOutcome | undefined)[]> {
    return guardDb(() =>
      this.#db.transaction().execute(async (trx) => {
        const now = inputs.reduce((latest, input) => (input.now > latest ? input.now : latest), new Date(0));
        const { rows, deltas } = await confirmReserved(trx, inputs);
        const events: NewEvent[] = [];
        const outcomes = rows.map((row, i): ConfirmOutcome | undefined => {
          if (row === undefined) return undefined;
          const upload = toRecord(row);
          if (inputs[i]?.scanned === true) events.push({ type: "upload.scanned", upload });
          events.push({ type: EVENT_OF_STATUS.confirmed, upload });
          return { kind: "confirmed", upload };
        });
        await appendEvents(trx, events, now);
        await applyQuotaDeltas(trx, deltas, now);
        return outcomes;
      }),
    );
  }

  #confirmAlone(input: ConfirmInput): Promise<ConfirmOutcome> {
    return guardDb(async () => {
      const rollback = Symbol("rollback");
      let outcome: ConfirmOutcome | undefined;
      try {
        await this.#db.transaction().execute(async (trx) => {
          if (input.lateLink !== undefined) await this.links.lock(trx, input.lateLink);
          // The status guard first: of two racing confirms, the second waits on this row and
          // then matches nothing, so it can never charge the quota a second time.
          const updated = await trx
            .updateTable("uploads")
            .set({
              status: "confirmed",
              size: input.size,
              etag: input.etag,
              confirmed_at: input.now.getTime(),
              retain_until: input.retainUntil?.getTime() ?? null,
            })
            .where("id", "=", input.id)
            .where("status", "in", input.from)
            .returningAll()
            .executeTakeFirst();
          if (updated === undefined) {
            outcome = { kind: "not-in-state", upload: undefined };
            throw rollback;
          }
          if (input.lateLink !== undefined && !(await withinUses(trx, input.lateLink, input.now))) {
            outcome = { kind: "link-used-up" };
            throw rollback;
          }
          // The reserved bytes become usage; they fit by construction. An upload whose URL expired
          // gave its reservation back, so it is charged like a new one, if it still fits.
          const converted = await dropReservation(trx, input.id, input.now, input.size);
          if (!converted) {
            for (const charge of [...input.charges].sort((a, b) => (a.subject < b.subject ? -1 : 1))) {
              const usage = await chargeQuota(trx, charge, input.size, input.now);
              if (usage !== undefined) {
                outcome = { kind: "quota-exceeded", usage };
                throw rollback;
              }
            }
          }
          const confirmed = { ...toRecord(updated), reserved: false };
          const events: NewEvent[] = input.scanned === true ? [{ type: "upload.scanned", upload: confirmed }] : [];
          await appendEvents(trx, [...events, { type: EVENT_OF_STATUS.confirmed, upload: confirmed }], input.now);
          outcome = { kind: "confirmed", upload: confirmed };
        });
      } catch (error) {
        if (error !== rollback) throw error;
      }
      if (outcome?.kind === "not-in-state") {
        return { kind: "not-in-state", upload: await this.findUpload(input.id) };
      }
      if (outcome === undefined) throw new Error("confirm transaction ended without an outcome");
      return outcome;
    });
  }

  rejectUpload(input: {
    id: string;
    from: readonly UploadStatus[];
    code: string;
    reason: string;
    now: Date;
  }): Promise<UploadRecord | undefined> {
    return guardDb(() =>
      this.#db.transaction().execute(async (trx) => {
        const row = await move(trx, input.id, input.from, { status: "rejected", reject_code: input.code, reject_reason: input.reason, finished_at: input.now.getTime() });
        if (row === undefined) return undefined;
        await dropReservation(trx, input.id, input.now);
        const rejected = { ...toRecord(row), reserved: false };
        await appendEvents(trx, [{ type: EVENT_OF_STATUS.rejected, upload: rejected }], input.now);
        return rejected;
      }),
    );
  }

  beginScan(input: {
    id: string;
    from: readonly UploadStatus[];
    size: number;
    etag: string;
    lateLink?: string | undefined;
    now: Date;
  }): Promise<UploadRecord | "link-used-up" | undefined> {
    return guardDb(async () => {
      const rollback = Symbol("rollback");
      try {
        return await this.#db.transaction().execute(async (trx) => {
          if (input.lateLink !== undefined) await this.links.lock(trx, input.lateLink);
          // The reservation stays: the bytes are not the user's to keep until found clean.
          const row = await move(trx, input.id, input.from, { status: "scanning", size: input.size, etag: input.etag });
          if (row === undefined) return undefined;
          if (input.lateLink !== undefined && !(await withinUses(trx, input.lateLink, input.now))) throw rollback;
          await appendEvents(trx, [{ type: EVENT_OF_STATUS.scanning, upload: row }], input.now);
          return toRecord(row);
        });
      } catch (error) {
        if (error === rollback) return "link-used-up" as const;
        throw error;
      }
    });
  }

  markInfected(input: { id: string; from: readonly UploadStatus[]; signature: string; now: Date }): Promise<UploadRecord | undefined> {
    return guardDb(() =>
      this.#db.transaction().execute(async (trx) => {
        const row = await move(trx, input.id, input.from, {
          status: "infected",
          reject_code: "UPLOAD_INFECTED",
          reject_reason: `The scanner found ${input.signature}.`,
          finished_at: input.now.getTime(),
        });
        if (row === undefined) return undefined;
        // Its bytes are given back: the reservation they were held under goes.
        await dropReservation(trx, input.id, input.now);
        const infected = { ...toRecord(row), reserved: false };
        await appendEvents(trx, [{ type: EVENT_OF_STATUS.infected, upload: infected, extra: { signature: input.signature } }], input.now);
        return infected;
      }),
    );
  }

  deleteUpload(input: {
    id: string;
    from: readonly UploadStatus[];
    now: Date;
  }): Promise<UploadRecord | undefined> {
    return guardDb(() =>
      this.#db.transaction().execute(async (trx) => {
        // No read before the write: a confirm committing in between would go unseen and its
        // bytes never come back. The UPDATE locks the row and works on its latest version;
        // `confirmed_at` then tells whether the bytes were charged (only a confirm sets it, and
        // a confirmed upload can move on only to deleted or expired).
        const row = await move(trx, input.id, input.from, { status: "deleted", deleted_at: input.now.getTime(), finished_at: input.now.getTime() });
        if (row === undefined) return undefined;
        if (row.confirmed_at !== null && row.size !== null) {
          await refundQuota(trx, quotaSubjects(row.user_id, row.org_id), Number(row.size), input.now);
        }
        await dropReservation(trx, input.id, input.now);
        const deleted = { ...toRecord(row), reserved: false };
        await appendEvents(trx, [{ type: EVENT_OF_STATUS.deleted, upload: deleted }], input.now);
        return deleted;
      }),
    );
  }

  clearStaging(input: { id: string; key: string }): Promise<void> {
    return guardDb(async () => {
      await this.#db
        .updateTable("uploads")
        .set({ staging_bucket: null, staging_key: null })
        .where("id", "=", input.id)
        .where("staging_key", "=", input.key)
        .execute();
    });
  }

  attachUploads(input: {
    owns: (upload: UploadRecord) => boolean;
    ids: readonly string[];
    parent: { type: string; id: string };
    now: Date;
  }): Promise<AttachOutcome> {
    return guardDb(async () => {
      const rollback = Symbol("rollback");
      let outcome: AttachOutcome | undefined;
      try {
        await this.#db.transaction().execute(async (trx) => {
          const rows = await trx.selectFrom("uploads").selectAll().where("id", "in", input.ids).execute();
          const byId = new Map(rows.map((row) => [row.id, row]));
          const refused = input.ids.flatMap((id) => {
            const row = byId.get(id);
            if (row === undefined || !input.owns(toRecord(row))) return [{ id, reason: "not found" }];
            if (!isServable(row.status)) return [{ id, reason: `${row.status}, not confirmed` }];
            const elsewhere = row.attached_at !== null && (row.parent_type !== input.parent.type || row.parent_id !== input.parent.id);
            return elsewhere ? [{ id, reason: "attached to another record" }] : [];
          });
          if (refused.length > 0) {
            outcome = { kind: "refused", refused };
            throw rollback;
          }
          // Guarded like every state change: a concurrent delete or attach elsewhere makes the
          // count come up short, and the whole attach rolls back.
          const updated = await trx
            .updateTable("uploads")
            .set({ parent_type: input.parent.type, parent_id: input.parent.id, attached_at: sql<number>`coalesce(attached_at, ${input.now.getTime()})` })
            .where("id", "in", input.ids)
            .where("status", "in", SERVABLE)
            .where((eb) => eb.or([eb("attached_at", "is", null), eb.and([eb("parent_type", "=", input.parent.type), eb("parent_id", "=", input.parent.id)])]))
            .returningAll()
            .execute();
          if (updated.length !== input.ids.length) {
            outcome = { kind: "refused", refused: [{ id: "", reason: "changed concurrently; try again" }] };
            throw rollback;
          }
          // Only what this call attached tells the world; attaching again to the same record is a no-op.
          const attached = updated.filter((row) => Number(row.attached_at) === input.now.getTime());
          await appendEvents(trx, attached.map((row) => ({ type: "upload.attached" as const, upload: row })), input.now);
          outcome = { kind: "attached", uploads: updated.map(toRecord) };
        });
      } catch (error) {
        if (error !== rollback) throw error;
      }
      if (outcome === undefined) throw new Error("attach transaction ended without an outcome");
      return outcome;
    });
  }

  ping(): Promise<void> {
    return guardDb(async () => {
      await sql`select 1`.execute(this.#db);
    });
  }

  async close(): Promise<void> {
    await Promise.all([this.#inserts.drain(), this.#creates.drain(), this.#confirms.drain(), this.#usageReads.drain()]);
    await this.#db.destroy();
  }
}

/** One confirm as the store takes it (see MetadataStore.confirmUpload). */
interface ConfirmInput extends ConfirmRequest {
  charges: readonly QuotaCharge[];
  scanned?: boolean | undefined;
  lateLink?: string | undefined;
}

function uploadRow(upload: NewUpload): Selectable<UploadsTable> {
  return {
    id: upload.id,
    user_id: upload.userId,
    owner_type: upload.ownerType,
    owner_id: upload.ownerId ?? null,
    bucket: upload.bucket,
    key: upload.key,
    filename: upload.filename,
    content_type: upload.contentType,
    declared_size: upload.declaredSize,
    size: null,
    etag: null,
    status: INITIAL_STATUS,
    reject_code: null,
    reject_reason: null,
    created_at: upload.createdAt.getTime(),
    expires_at: upload.expiresAt.getTime(),
    confirmed_at: null,
    deleted_at: null,
    finished_at: null,
    org_id: upload.orgId ?? null,
    parent_type: null,
    parent_id: null,
    attached_at: null,
    retain_until: null,
    multipart_id: upload.multipart?.uploadId ?? null,
    part_size: upload.multipart?.partSize ?? null,
    part_count: upload.multipart?.partCount ?? null,
    staging_bucket: upload.staging?.bucket ?? null,
    staging_key: upload.staging?.key ?? null,
    upload_method: upload.method,
    reserved: 0,
    link_id: upload.linkId ?? null,
  };
}

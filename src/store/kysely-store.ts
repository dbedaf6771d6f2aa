import { type Kysely, Migrator, type Selectable, sql, type Transaction } from "kysely";
import { StowageError } from "../errors.js";
import type { Database, UploadsTable } from "./database.js";
import { migrationProvider } from "./migrations/index.js";
import type { NewUpload, QuotaCharge, QuotaUsage, UploadRecord, UploadStatus } from "./records.js";
import type { ConfirmOutcome, MetadataStore } from "./store.js";

/** Driver error codes that mean "the database is not reachable or not usable right now". */
const UNAVAILABLE_CODES = new Set([
  // SQLite (better-sqlite3 `code`)
  "SQLITE_BUSY",
  "SQLITE_LOCKED",
  "SQLITE_CANTOPEN",
  "SQLITE_FULL",
  "SQLITE_READONLY",
  "SQLITE_IOERR",
  "SQLITE_NOTADB",
  "SQLITE_CORRUPT",
  // Network (node)
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
  // PostgreSQL: admin shutdown, crash shutdown, cannot connect now, too many connections
  "57P01",
  "57P02",
  "57P03",
  "53300",
]);

/**
 * The metadata store on Kysely: the same queries for SQLite and PostgreSQL. Quotas are charged
 * with one conditional UPDATE (`used + size <= limit`) inside the transaction that confirms the
 * upload, never read-then-write, so concurrent confirms cannot overshoot a limit.
 */
export class KyselyStore implements MetadataStore {
  readonly #db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  async migrate(): Promise<void> {
    const migrator = new Migrator({ db: this.#db, provider: migrationProvider });
    const { error, results } = await migrator.migrateToLatest();
    const failed = results?.find((r) => r.status === "Error");
    if (error !== undefined || failed !== undefined) {
      throw new Error(`Migration ${failed?.migrationName ?? ""} failed`, { cause: error });
    }
  }

  insertUpload(upload: NewUpload): Promise<UploadRecord> {
    return guardDb(async () => {
      const row = await this.#db
        .insertInto("uploads")
        .values({
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
          status: "pending",
          reject_code: null,
          reject_reason: null,
          created_at: upload.createdAt.getTime(),
          expires_at: upload.expiresAt.getTime(),
          confirmed_at: null,
          deleted_at: null,
          multipart_id: upload.multipart?.uploadId ?? null,
          part_size: upload.multipart?.partSize ?? null,
          part_count: upload.multipart?.partCount ?? null,
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      return toRecord(row);
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
        .where("status", "!=", "deleted");
      if (query.ownerType !== undefined) q = q.where("owner_type", "=", query.ownerType);
      if (query.before !== undefined) q = q.where("id", "<", query.before);
      const rows = await q.orderBy("id", "desc").limit(query.limit).execute();
      return rows.map(toRecord);
    });
  }

  usage(charge: QuotaCharge): Promise<QuotaUsage> {
    return guardDb(async () => {
      const row = await this.#db
        .selectFrom("quotas")
        .select(["used_bytes", "limit_bytes"])
        .where("subject", "=", charge.subject)
        .executeTakeFirst();
      return {
        subject: charge.subject,
        usedBytes: Number(row?.used_bytes ?? 0),
        limitBytes: Number(row?.limit_bytes ?? charge.defaultLimitBytes),
      };
    });
  }

  confirmUpload(input: {
    id: string;
    from: readonly UploadStatus[];
    size: number;
    etag: string;
    charges: readonly QuotaCharge[];
    now: Date;
  }): Promise<ConfirmOutcome> {
    return guardDb(async () => {
      const rollback = Symbol("rollback");
      let outcome: ConfirmOutcome | undefined;
      try {
        await this.#db.transaction().execute(async (trx) => {
          // The status guard first: of two racing confirms, the second waits on this row and
          // then matches nothing, so it can never charge the quota a second time.
          const row = await trx
            .updateTable("uploads")
            .set({
              status: "confirmed",
              size: input.size,
              etag: input.etag,
              confirmed_at: input.now.getTime(),
            })
            .where("id", "=", input.id)
            .where("status", "in", input.from)
            .returningAll()
            .executeTakeFirst();
          if (row === undefined) {
            outcome = { kind: "not-in-state", upload: undefined };
            throw rollback;
          }
          for (const charge of input.charges) {
            const usage = await chargeQuota(trx, charge, input.size, input.now);
            if (usage !== undefined) {
              outcome = { kind: "quota-exceeded", usage };
              throw rollback;
            }
          }
          outcome = { kind: "confirmed", upload: toRecord(row) };
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
  }): Promise<UploadRecord | undefined> {
    return guardDb(async () => {
      const row = await this.#db
        .updateTable("uploads")
        .set({ status: "rejected", reject_code: input.code, reject_reason: input.reason })
        .where("id", "=", input.id)
        .where("status", "in", input.from)
        .returningAll()
        .executeTakeFirst();
      return row === undefined ? undefined : toRecord(row);
    });
  }

  deleteUpload(input: {
    id: string;
    from: readonly UploadStatus[];
    refund: readonly string[];
    now: Date;
  }): Promise<UploadRecord | undefined> {
    return guardDb(() =>
      this.#db.transaction().execute(async (trx) => {
        const before = await trx
          .selectFrom("uploads")
          .select(["status", "size"])
          .where("id", "=", input.id)
          .executeTakeFirst();
        const row = await trx
          .updateTable("uploads")
          .set({ status: "deleted", deleted_at: input.now.getTime() })
          .where("id", "=", input.id)
          .where("status", "in", input.from)
          .returningAll()
          .executeTakeFirst();
        if (row === undefined || before === undefined) return undefined;
        // Only bytes that were charged go back; the guarded UPDATE above makes this run once.
        if (before.status === "confirmed" && before.size !== null) {
          const size = Number(before.size);
          for (const subject of input.refund) {
            await trx
              .updateTable("quotas")
              .set({
                used_bytes: sql<number>`case when used_bytes > ${size} then used_bytes - ${size} else 0 end`,
                updated_at: input.now.getTime(),
              })
              .where("subject", "=", subject)
              .execute();
          }
        }
        return toRecord(row);
      }),
    );
  }

  ping(): Promise<void> {
    return guardDb(async () => {
      await sql`select 1`.execute(this.#db);
    });
  }

  close(): Promise<void> {
    return this.#db.destroy();
  }
}

/** Charges `size` bytes; returns the usage when the charge would not fit (nothing changed). */
async function chargeQuota(
  trx: Transaction<Database>,
  charge: QuotaCharge,
  size: number,
  now: Date,
): Promise<QuotaUsage | undefined> {
  await trx
    .insertInto("quotas")
    .values({
      subject: charge.subject,
      used_bytes: 0,
      limit_bytes: null,
      updated_at: now.getTime(),
    })
    .onConflict((oc) => oc.column("subject").doNothing())
    .execute();
  const charged = await trx
    .updateTable("quotas")
    .set({ used_bytes: sql<number>`used_bytes + ${size}`, updated_at: now.getTime() })
    .where("subject", "=", charge.subject)
    .where(sql<boolean>`used_bytes + ${size} <= coalesce(limit_bytes, ${charge.defaultLimitBytes})`)
    .returning("used_bytes")
    .executeTakeFirst();
  if (charged !== undefined) return undefined;
  const row = await trx
    .selectFrom("quotas")
    .select(["used_bytes", "limit_bytes"])
    .where("subject", "=", charge.subject)
    .executeTakeFirstOrThrow();
  return {
    subject: charge.subject,
    usedBytes: Number(row.used_bytes),
    limitBytes: Number(row.limit_bytes ?? charge.defaultLimitBytes),
  };
}

function toRecord(row: Selectable<UploadsTable>): UploadRecord {
  const date = (ms: number | null) => (ms === null ? undefined : new Date(Number(ms)));
  return {
    id: row.id,
    userId: row.user_id,
    ownerType: row.owner_type,
    ownerId: row.owner_id ?? undefined,
    bucket: row.bucket,
    key: row.key,
    filename: row.filename,
    contentType: row.content_type,
    declaredSize: Number(row.declared_size),
    size: row.size === null ? undefined : Number(row.size),
    etag: row.etag ?? undefined,
    status: row.status as UploadStatus,
    rejectCode: row.reject_code ?? undefined,
    rejectReason: row.reject_reason ?? undefined,
    createdAt: new Date(Number(row.created_at)),
    expiresAt: new Date(Number(row.expires_at)),
    confirmedAt: date(row.confirmed_at),
    deletedAt: date(row.deleted_at),
    multipart:
      row.multipart_id === null
        ? undefined
        : { uploadId: row.multipart_id, partSize: Number(row.part_size), partCount: Number(row.part_count) },
  };
}

/** Connection-level failures become 503 DATABASE_UNAVAILABLE; anything else is a bug and stays one. */
async function guardDb<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    const code = String((error as { code?: unknown } | undefined)?.code ?? "");
    const family = code.startsWith("SQLITE_IOERR") ? "SQLITE_IOERR" : code;
    if (UNAVAILABLE_CODES.has(family)) {
      throw new StowageError("DATABASE_UNAVAILABLE", "The metadata database is not available.", {
        cause: error,
      });
    }
    throw error;
  }
}

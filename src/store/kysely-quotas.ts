import { sql, type Transaction } from "kysely";
import type { Database } from "./database.js";
import { isPostgres } from "./kysely-shared.js";
import { type QuotaCharge, type QuotaUsage, quotaSubjects } from "./quota.js";

/*
 * The quota SQL, in one place. A subject's row holds `used_bytes` (confirmed uploads),
 * `reserved_bytes` and `pending_count` (pending uploads that still hold their declared size),
 * and an optional `limit_bytes` of its own. Every change is one conditional statement inside the
 * caller's transaction, never read-then-write, so concurrent requests cannot overshoot a limit.
 */

/**
 * Charges `size` bytes to a subject whose upload held no reservation (it was released when its
 * URL expired): only if `used + reserved + size <= limit`, so other uploads' reservations stay
 * good. Returns the usage when the charge would not fit (nothing changed).
 */
export async function chargeQuota(
  trx: Transaction<Database>,
  charge: QuotaCharge,
  size: number,
  now: Date,
): Promise<QuotaUsage | undefined> {
  const limit = sql<number>`coalesce(quotas.limit_bytes, ${charge.defaultLimitBytes})`;
  // One statement: a first charge creates the row, a later one adds to it only if it fits.
  // A charge larger than the default limit cannot create a row; it may still fit a custom one.
  const fits = sql<boolean>`quotas.used_bytes + quotas.reserved_bytes + ${size} <= ${limit}`;
  const charged = size <= charge.defaultLimitBytes
    ? await trx
        .insertInto("quotas")
        .values({ subject: charge.subject, used_bytes: size, limit_bytes: null, updated_at: now.getTime() })
        .onConflict((oc) => oc
          .column("subject")
          .doUpdateSet({ used_bytes: sql<number>`quotas.used_bytes + ${size}`, updated_at: now.getTime() })
          .where(fits))
        .returning("used_bytes")
        .executeTakeFirst()
    : await trx
        .updateTable("quotas")
        .set({ used_bytes: sql<number>`used_bytes + ${size}`, updated_at: now.getTime() })
        .where("subject", "=", charge.subject)
        .where(fits)
        .returning("used_bytes")
        .executeTakeFirst();
  if (charged !== undefined) return undefined;
  // No row: a charge larger than the default limit on a subject never charged before.
  return usageOf(charge, await quotaRow(trx, charge.subject));
}

/**
 * Lets go of an upload's reservation, exactly once: the row's `reserved = 1` guard makes a
 * second call (a racing sweeper, a retried request) change nothing. With `usedBytes`, the
 * reserved bytes become usage (confirm); without, they are given back. Returns whether the
 * upload held a reservation.
 */
export async function dropReservation(
  trx: Transaction<Database>,
  id: string,
  now: Date,
  usedBytes?: number,
): Promise<boolean> {
  const row = await trx
    .updateTable("uploads")
    .set({ reserved: 0 })
    .where("id", "=", id)
    .where("reserved", "=", 1)
    .returning(["declared_size", "user_id", "org_id"])
    .executeTakeFirst();
  if (row === undefined) return false;
  const deltas = new Map<string, QuotaDelta>();
  for (const subject of quotaSubjects(row.user_id, row.org_id)) {
    deltas.set(subject, { used: usedBytes ?? 0, reserved: -Number(row.declared_size), pending: -1 });
  }
  await applyQuotaDeltas(trx, deltas, now);
  return true;
}

/**
 * The bulk form of {@link dropReservation} for the sweeper: lets go of the reservations of the
 * listed rows that still hold one (`reserved = 1`, so never twice), summed per subject.
 */
export async function dropReservations(trx: Transaction<Database>, ids: readonly string[], now: Date): Promise<void> {
  if (ids.length === 0) return;
  const rows = await trx
    .updateTable("uploads")
    .set({ reserved: 0 })
    .where("id", "in", ids)
    .where("reserved", "=", 1)
    .returning(["declared_size", "user_id", "org_id"])
    .execute();
  const deltas = new Map<string, QuotaDelta>();
  for (const row of rows) {
    for (const subject of quotaSubjects(row.user_id, row.org_id)) {
      addDelta(deltas, subject, { reserved: -Number(row.declared_size), pending: -1 });
    }
  }
  await applyQuotaDeltas(trx, deltas, now);
}

/** Changes to one subject's counters; decrements never take a counter below zero. */
export interface QuotaDelta {
  used: number;
  reserved: number;
  pending: number;
}

/**
 * Applies counter changes to several subjects in two statements whatever their number (a batch
 * of confirms touches every member's row and their organization's): on PostgreSQL one SELECT …
 * FOR UPDATE first locks the rows in subject order, as every path that locks more than one
 * quota row takes them (see admitReservations), so two transactions cannot deadlock; one UPDATE
 * over many rows would take them in whatever order its plan visits them. SQLite's writer lock
 * covers the whole transaction. Then one UPDATE adds every subject's deltas, each counter
 * floored at zero. The changes are relative (`col = col + delta`) under the row locks, so
 * concurrent transactions compose exactly.
 */
export async function applyQuotaDeltas(trx: Transaction<Database>, deltas: ReadonlyMap<string, QuotaDelta>, now: Date): Promise<void> {
  const changes = [...deltas.entries()]
    .filter(([, d]) => d.used !== 0 || d.reserved !== 0 || d.pending !== 0)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  if (changes.length === 0) return;
  if (changes.length > 1 && isPostgres(trx)) {
    // Bytewise ("C") order is the JS string order the other paths sort by; a locale's would differ.
    await trx
      .selectFrom("quotas")
      .select("subject")
      .where("subject", "in", changes.map(([subject]) => subject))
      .orderBy(sql`subject collate "C"`)
      .forUpdate()
      .execute();
  }
  const rows = changes.map(([subject, d]) => sql`(${subject}, cast(${d.used} as bigint), cast(${d.reserved} as bigint), cast(${d.pending} as bigint))`);
  const floor = (column: "used_bytes" | "reserved_bytes" | "pending_count", delta: "used" | "reserved" | "pending") => {
    const sum = sql`${sql.ref(`quotas.${column}`)} + ${sql.ref(`delta.${delta}`)}`;
    return sql`case when ${sum} > 0 then ${sum} else 0 end`;
  };
  await sql`
    with delta(subject, used, reserved, pending) as (values ${sql.join(rows)})
    update quotas
    set used_bytes = ${floor("used_bytes", "used")},
        reserved_bytes = ${floor("reserved_bytes", "reserved")},
        pending_count = ${floor("pending_count", "pending")},
        updated_at = ${now.getTime()}
    from delta
    where quotas.subject = delta.subject`.execute(trx);
}

/** Adds `delta` to the running total of `subject` in `deltas`. */
export function addDelta(deltas: Map<string, QuotaDelta>, subject: string, delta: Partial<QuotaDelta>): void {
  const current = deltas.get(subject) ?? { used: 0, reserved: 0, pending: 0 };
  deltas.set(subject, {
    used: current.used + (delta.used ?? 0),
    reserved: current.reserved + (delta.reserved ?? 0),
    pending: current.pending + (delta.pending ?? 0),
  });
}

type QuotaRow = { used_bytes: number; reserved_bytes: number; pending_count: number; limit_bytes: number | null };

function quotaRow(trx: Transaction<Database>, subject: string): Promise<QuotaRow | undefined> {
  return trx
    .selectFrom("quotas")
    .select(["used_bytes", "reserved_bytes", "pending_count", "limit_bytes"])
    .where("subject", "=", subject)
    .executeTakeFirst();
}

/** A subject's usage from its quota row; no row: nothing used or reserved, the default limit. */
export function usageOf(charge: QuotaCharge, row: QuotaRow | undefined): QuotaUsage {
  return {
    subject: charge.subject,
    usedBytes: Number(row?.used_bytes ?? 0),
    reservedBytes: Number(row?.reserved_bytes ?? 0),
    pendingUploads: Number(row?.pending_count ?? 0),
    limitBytes: Number(row?.limit_bytes ?? charge.defaultLimitBytes),
  };
}

/** Gives `size` bytes back to each subject, never below zero. */
export async function refundQuota(trx: Transaction<Database>, subjects: readonly string[], size: number, now: Date): Promise<void> {
  const deltas = new Map<string, QuotaDelta>();
  for (const subject of subjects) addDelta(deltas, subject, { used: -size });
  await applyQuotaDeltas(trx, deltas, now);
}

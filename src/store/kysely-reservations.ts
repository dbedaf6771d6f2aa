import { sql, type Transaction } from "kysely";
import type { Database } from "./database.js";
import { usageOf } from "./kysely-quotas.js";
import type { QuotaCharge } from "./quota.js";
import type { CreateOutcome } from "./store.js";

/** One presign's reservation request: the size, and every subject it is charged to. */
export interface ReservationRequest {
  size: number;
  reserve: readonly QuotaCharge[];
}

interface Counters {
  used: number;
  reserved: number;
  pending: number;
  /** The subject's own limit, or null for the default. */
  limit: number | null;
}

/**
 * Admits the reservations of a batch of presigns (those of one event-loop turn, see TickBatch)
 * in the caller's transaction, in two statements whatever the batch's size: one upsert creates
 * the missing quota rows and locks and reads every row the batch touches (in subject order, so
 * two batches never deadlock; SQLite's writer lock covers the whole transaction), and one
 * UPDATE adds the admitted counters. Reading then writing is exact here because the rows
 * stay locked until commit: no other presign, confirm or release can change them in between.
 * Each request is admitted in order only if every subject has room for it
 * (`used + reserved + size <= limit`, and for a user fewer than `maxPending` pending), so a
 * refusal holds nothing. Answers one admission (or refusal) per request, in order.
 */
export async function admitReservations(
  trx: Transaction<Database>,
  requests: readonly ReservationRequest[],
  now: Date,
): Promise<((CreateOutcome & { kind: "refused" }) | undefined)[]> {
  const subjects = [...new Set(requests.flatMap((r) => r.reserve.map((c) => c.subject)))].sort();
  if (subjects.length === 0) return requests.map(() => undefined);
  // One statement creates missing rows, locks every row (in subject order: no two batches can
  // deadlock) and reads it: the no-op DO UPDATE is what makes an existing row come back locked.
  const at = now.getTime();
  const rows = await trx
    .insertInto("quotas")
    .values(subjects.map((subject) => ({ subject, used_bytes: 0, reserved_bytes: 0, pending_count: 0, limit_bytes: null, updated_at: at })))
    .onConflict((oc) => oc.column("subject").doUpdateSet({ subject: sql.ref("excluded.subject") }))
    .returning(["subject", "used_bytes", "reserved_bytes", "pending_count", "limit_bytes"])
    .execute();
  const counters = new Map<string, Counters>();
  for (const row of rows) {
    counters.set(row.subject, {
      used: Number(row.used_bytes),
      reserved: Number(row.reserved_bytes),
      pending: Number(row.pending_count),
      limit: row.limit_bytes === null ? null : Number(row.limit_bytes),
    });
  }

  const added = new Map<string, { bytes: number; count: number }>();
  const outcomes = requests.map((request) => {
    for (const charge of request.reserve) {
      const c = counters.get(charge.subject) ?? { used: 0, reserved: 0, pending: 0, limit: null };
      const limit = c.limit ?? charge.defaultLimitBytes;
      const full = charge.maxPending !== undefined && c.pending >= charge.maxPending;
      if (full || c.used + c.reserved + request.size > limit) {
        const row = { used_bytes: c.used, reserved_bytes: c.reserved, pending_count: c.pending, limit_bytes: c.limit };
        return { kind: "refused" as const, refusal: { reason: full ? ("pending" as const) : ("quota" as const), usage: usageOf(charge, row) } };
      }
    }
    for (const charge of request.reserve) {
      const c = counters.get(charge.subject);
      if (c === undefined) continue;
      c.reserved += request.size;
      c.pending += 1;
      const sum = added.get(charge.subject) ?? { bytes: 0, count: 0 };
      added.set(charge.subject, { bytes: sum.bytes + request.size, count: sum.count + 1 });
    }
    return undefined;
  });

  if (added.size > 0) {
    const rows = [...added.entries()].map(([subject, sum]) => sql`(${subject}, cast(${sum.bytes} as bigint), cast(${sum.count} as bigint))`);
    await sql`
      with added(subject, bytes, count) as (values ${sql.join(rows)})
      update quotas
      set reserved_bytes = quotas.reserved_bytes + added.bytes,
          pending_count = quotas.pending_count + added.count,
          updated_at = ${at}
      from added
      where quotas.subject = added.subject`.execute(trx);
  }
  return outcomes;
}

import { type Selectable, sql, type Transaction } from "kysely";
import type { UploadStatus } from "../uploads/status.js";
import type { Database, UploadsTable } from "./database.js";
import { addDelta, type QuotaDelta } from "./kysely-quotas.js";
import { quotaSubjects } from "./quota.js";

/** What one confirm sets on its upload, and the states it may come from. */
export interface ConfirmRequest {
  id: string;
  from: readonly UploadStatus[];
  size: number;
  etag: string;
  retainUntil?: Date | undefined;
  now: Date;
}

/**
 * Every column, spelled out for RETURNING: SQLite refuses `uploads.*` there, and a bare `*` on
 * PostgreSQL would add the joined values' columns. A `Record` of the row's keys, so a column
 * added to the table without being added here fails to compile.
 */
const COLUMNS: Record<keyof UploadsTable, true> = {
  id: true, user_id: true, owner_type: true, owner_id: true, bucket: true, key: true, filename: true, content_type: true,
  declared_size: true, size: true, etag: true, status: true, reject_code: true, reject_reason: true, created_at: true,
  expires_at: true, confirmed_at: true, deleted_at: true, finished_at: true, multipart_id: true, part_size: true, part_count: true,
  org_id: true, parent_type: true, parent_id: true, attached_at: true, retain_until: true, staging_bucket: true, staging_key: true,
  upload_method: true, reserved: true, link_id: true,
};
const RETURNING = sql.join(Object.keys(COLUMNS).map((column) => sql.ref(`uploads.${column}`)));

/**
 * Confirms, in the caller's transaction, those of a batch's uploads that are in one of their
 * `from` states and still hold their reservation (`reserved = 1`): one UPDATE per distinct
 * `from` (in practice one), whatever the batch's size, each row getting its own size, ETag and
 * times, its reservation flag cleared in the same statement. Answers the confirmed row per
 * request, or undefined where the row did not match: not in such a state, its reservation given
 * back (URL expired), or an id already taken by an earlier request of the batch. The caller
 * takes those through the one-by-one confirm, which tells the cases apart and charges a
 * released reservation against the limit.
 *
 * Also answers the quota deltas of what it confirmed, summed per subject: each reservation
 * becomes usage (`used += size`, `reserved -= declared`, one pending fewer). A confirm only
 * moves bytes from reserved to used, so it needs no limit check; the caller applies the deltas.
 */
export async function confirmReserved(
  trx: Transaction<Database>,
  requests: readonly ConfirmRequest[],
): Promise<{ rows: (Selectable<UploadsTable> | undefined)[]; deltas: Map<string, QuotaDelta> }> {
  const firstOf = new Map<string, number>();
  requests.forEach((request, i) => {
    if (!firstOf.has(request.id)) firstOf.set(request.id, i);
  });
  const groups = new Map<string, ConfirmRequest[]>();
  for (const i of firstOf.values()) {
    const request = requests[i] as ConfirmRequest;
    const key = [...request.from].sort().join(",");
    groups.set(key, [...(groups.get(key) ?? []), request]);
  }

  const confirmed = new Map<string, Selectable<UploadsTable>>();
  for (const group of groups.values()) {
    const from = (group[0] as ConfirmRequest).from;
    const values = group.map((r) =>
      sql`(${r.id}, cast(${r.size} as bigint), ${r.etag}, cast(${r.now.getTime()} as bigint), cast(${r.retainUntil?.getTime() ?? null} as bigint))`,
    );
    const status: UploadStatus = "confirmed";
    const { rows } = await sql<Selectable<UploadsTable>>`
      with confirm(id, size, etag, confirmed_at, retain_until) as (values ${sql.join(values)})
      update uploads
      set status = ${status}, size = confirm.size, etag = confirm.etag, confirmed_at = confirm.confirmed_at,
          retain_until = confirm.retain_until, reserved = 0
      from confirm
      where uploads.id = confirm.id and uploads.status in (${sql.join(from)}) and uploads.reserved = 1
      returning ${RETURNING}`.execute(trx);
    for (const row of rows) confirmed.set(row.id, row);
  }

  const deltas = new Map<string, QuotaDelta>();
  for (const row of confirmed.values()) {
    for (const subject of quotaSubjects(row.user_id, row.org_id)) {
      addDelta(deltas, subject, { used: Number(row.size), reserved: -Number(row.declared_size), pending: -1 });
    }
  }
  const rows = requests.map((request, i) => (firstOf.get(request.id) === i ? confirmed.get(request.id) : undefined));
  return { rows, deltas };
}

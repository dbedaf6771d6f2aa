import pg from "pg";

/** Users the seeded rows are spread over; the bench's caller is `user0`, so it has its share of history. */
export const SEEDED_USERS = 10_000;
export const DAY_MS = 24 * 3600 * 1000;

/**
 * Fills `uploads` on PostgreSQL with `n` rows made by `generate_series`, in one statement per
 * million (each its own transaction, so a 20 M-row seed does not hold one huge one): created
 * over the last `spanDays` days in id order (ids are UUIDv7-shaped from the row's creation
 * time, as Stowage makes them), spread over {@link SEEDED_USERS} users. Nine rows in ten are
 * finished (deleted 3, expired 3, rejected 2, infected 1), each finished an hour after it was
 * made; one in ten is confirmed and live. No staging key, no reservation. With `events`, each row
 * also gets the outbox event of its last move (fanned out, its one delivery delivered): history,
 * as a long-running instance accumulates it. Returns how many finished rows are older than
 * `windowDays` (what the purge should take).
 */
export async function seedHistory(
  url: string,
  n: number,
  options: { spanDays: number; windowDays: number; now: number; events: boolean },
): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const step = (options.spanDays * DAY_MS) / Math.max(1, n);
    const start = options.now - options.spanDays * DAY_MS;
    for (let from = 1; from <= n; from += 1_000_000) {
      const to = Math.min(n, from + 999_999);
      await client.query(
        `
        with g as (
          select i, ($3::bigint + floor(i * $4::float8))::bigint as created, i % 10 as kind from generate_series($1::bigint, $2::bigint) as i
        ), r as (
          select i, created, kind, lpad(to_hex(created), 12, '0') as h, 'user' || (i % ${SEEDED_USERS}) as u from g
        )
        insert into uploads (id, user_id, owner_type, bucket, key, filename, content_type, declared_size, size, etag, status,
                             reject_code, created_at, expires_at, confirmed_at, deleted_at, finished_at, upload_method, reserved)
        select id, u, 'document', 'private', 'documents/' || u || '/' || id || '.pdf', 'report.pdf', 'application/pdf', 48213,
               case when kind in (0, 4, 5, 6) then 48213 end, case when kind in (0, 4, 5, 6) then '"e"' end,
               case when kind = 0 then 'confirmed' when kind <= 3 then 'deleted' when kind <= 6 then 'expired' when kind <= 8 then 'rejected' else 'infected' end,
               case when kind in (7, 8) then 'TYPE_MISMATCH' when kind = 9 then 'UPLOAD_INFECTED' end,
               created, created + 300000, case when kind in (0, 4, 5, 6) then created + 1000 end,
               case when kind between 1 and 6 then created + 3600000 end,
               case when kind > 0 then created + 3600000 end, 'put', 0
        from (select *, substr(h, 1, 8) || '-' || substr(h, 9, 4) || '-7' || lpad(to_hex(i % 4096), 3, '0') || '-8000-' || lpad(to_hex(i), 12, '0') as id from r) as rows
        `,
        [from, to, start, step],
      );
    }
    if (options.events) {
      // One event per upload, at its last move, its id UUIDv7-shaped from that time; one delivered delivery each.
      await client.query(`
        insert into events (id, type, upload_id, owner_type, payload, created_at, fanned_out)
        select substr(h, 1, 8) || '-' || substr(h, 9, 4) || '-7000-9' || substr(md5(id), 1, 3) || '-' || substr(md5(id), 4, 12),
               'upload.' || status, id, owner_type, '{}', at, 1
        from (select id, status, owner_type, coalesce(finished_at, confirmed_at) as at, lpad(to_hex(coalesce(finished_at, confirmed_at)), 12, '0') as h from uploads) as u`);
      await client.query(`
        insert into deliveries (event_id, target, state, attempts, next_attempt_at, updated_at)
        select id, 'webhook:app', 'delivered', 1, created_at, created_at from events`);
    }
    // A table that grew over 60 days has been vacuumed and analyzed by autovacuum, and its pages
    // written out long ago; one filled a minute ago has not. Do both now, and checkpoint, so
    // neither autovacuum's first pass nor the flush of the seed's pages lands in the timed part.
    for (const table of options.events ? ["uploads", "events", "deliveries"] : ["uploads"]) await client.query(`vacuum (analyze) ${table}`);
    await client.query("checkpoint");
    const cutoff = options.now - options.windowDays * DAY_MS;
    const { rows } = await client.query<{ n: string }>("select count(*) as n from uploads where finished_at < $1", [cutoff]);
    return Number(rows[0]?.n ?? 0);
  } finally {
    await client.end();
  }
}

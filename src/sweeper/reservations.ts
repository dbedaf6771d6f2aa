import type { SweepEvent, SweepJobOptions } from "./events.js";

/**
 * Reservations of pending uploads whose URL has expired: nothing more can be uploaded through
 * them, so their declared size goes back to the quota now (the row stays pending through the
 * abandoned job's grace, and a late confirm is then charged like any other). Presign and
 * `GET /v1/quota` release a caller's own expired reservations as they go; this job does it for
 * everyone, so an organization's quota does not wait on its members.
 */
export async function* reservations(options: SweepJobOptions): AsyncGenerator<SweepEvent> {
  const { store, batchSize: limit, signal, now } = options;
  let after: string | undefined;
  for (;;) {
    signal?.throwIfAborted();
    const rows = options.dryRun
      ? await store.findReservations({ expiredBefore: now, after, limit })
      : await store.releaseReservations({ expiredBefore: now, limit, now });
    for (const row of rows) {
      yield { job: "reservations", action: options.dryRun ? "would-release" : "released", bucket: row.bucket, key: row.key, bytes: 0, uploadId: row.id };
    }
    after = rows.at(-1)?.id;
    if (rows.length < limit) return;
  }
}

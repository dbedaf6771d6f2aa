import type { UploadRecord } from "../uploads/record.js";

/**
 * Which confirmed uploads a rule expires: those of one owner type confirmed before a cutoff,
 * optionally only the ones never attached to a record. Uploads under compliance retention
 * (`retain_until` after `now`) never match, whatever the rule says.
 */
export interface ConfirmedRule {
  ownerType: string;
  confirmedBefore: Date;
  /** Only uploads with no `attached_at` (the attach-within rule). */
  unattachedOnly: boolean;
}

/** An upload row the history purge removed (or would): enough to report it. */
export interface PurgedUpload {
  id: string;
  bucket: string;
  key: string;
  /** When it finished (`finished_at`): the purge's cursor within a run. */
  finishedAt: Date;
}

/** An outbox event the history purge removed with its deliveries (or would). */
export interface PurgedEvent {
  id: string;
  uploadId: string;
  type: string;
}

/** Where a run of one history job has got to: after this row, in the order the job walks. */
export interface PurgeCursor {
  /** For upload rows, the last row's `finished_at`; unused for events and links. */
  at?: Date | undefined;
  id: string;
}

/**
 * The metadata queries of the cleanup sweeper (`src/sweeper/`). Every `claim…`/`expire…`
 * method is the state change itself, guarded like every other (`WHERE status = …`), so two
 * sweepers running at once (two instances) never both handle a row: each row comes back from
 * exactly one claim. The `find…` methods are their read-only twins for dry runs, paged by id
 * because a dry run changes nothing and the same rows would otherwise come back forever.
 */
export interface SweeperStore {
  /**
   * Moves up to `limit` `pending` uploads whose URL expired before `expiredBefore` to
   * `expired` and returns them. On PostgreSQL the rows are picked `FOR UPDATE SKIP LOCKED`,
   * so concurrent sweepers take disjoint batches instead of queueing on each other's rows.
   */
  claimAbandoned(input: { expiredBefore: Date; limit: number; now: Date }): Promise<UploadRecord[]>;
  /**
   * Gives back the reservations of up to `limit` pending uploads whose URL expired before
   * `expiredBefore` (the rows stay pending for their grace) and returns them. On PostgreSQL the
   * rows are picked `FOR UPDATE SKIP LOCKED`; the `reserved = 1` guard releases each only once.
   */
  releaseReservations(input: { expiredBefore: Date; limit: number; now: Date }): Promise<UploadRecord[]>;
  /** The rows `releaseReservations` would take, after the id `after`, by id. Changes nothing. */
  findReservations(input: { expiredBefore: Date; after: string | undefined; limit: number }): Promise<UploadRecord[]>;
  /**
   * Settled uploads (not `pending`) whose staging object may still exist and whose URL expired
   * before `expiredBefore`, after the id `after`, by id. Changes nothing.
   */
  findStaged(input: { expiredBefore: Date; after: string | undefined; limit: number }): Promise<UploadRecord[]>;
  /** Records that these uploads' staging objects are gone (each only if it still names that key). */
  clearStaging(input: { rows: readonly { id: string; stagingKey: string }[] }): Promise<void>;
  /** The rows `claimAbandoned` would take, after the id `after`, by id. Changes nothing. */
  findAbandoned(input: { expiredBefore: Date; after: string | undefined; limit: number }): Promise<UploadRecord[]>;

  /**
   * In one transaction: moves up to `limit` uploads matching `rule` from `confirmed` to
   * `expired` and gives their bytes back to their user's and organization's quotas.
   */
  expireConfirmed(input: { rule: ConfirmedRule; limit: number; now: Date }): Promise<UploadRecord[]>;
  /** The rows `expireConfirmed` would take, after the id `after`, by id. Changes nothing. */
  findConfirmed(input: { rule: ConfirmedRule; after: string | undefined; limit: number; now: Date }): Promise<UploadRecord[]>;

  /** A page of `confirmed` uploads after the id `after` and up to `upTo` (inclusive), by id (the missing-object check). */
  pageConfirmed(input: { after: string | undefined; upTo?: string | undefined; limit: number }): Promise<UploadRecord[]>;
  /** The id a job's last run stopped after, if any. */
  sweepCursor(job: string): Promise<string | undefined>;
  /** Records the id a job's run stopped after, for the next run to go on from. */
  saveSweepCursor(input: { job: string; after: string; now: Date }): Promise<void>;
  /**
   * In one transaction: moves the listed uploads that are still `confirmed` to `expired` with
   * `reject_code` `code`, and refunds them. Returns the rows it moved.
   */
  expireMissing(input: { ids: readonly string[]; code: string; reason: string; now: Date }): Promise<UploadRecord[]>;

  /**
   * Of `keys` in any of `buckets`, those an object must be kept for: a live row (`pending` or
   * `confirmed`), a row still under retention whatever its status, or a row whose staging
   * object it is.
   */
  keptKeys(input: { buckets: readonly string[]; keys: readonly string[]; now: Date }): Promise<Set<string>>;

  /**
   * Deletes up to `limit` finished upload rows (`isFinished`) that finished before
   * `finishedBefore`, oldest first from `after`, and returns them. A row is kept, however old,
   * while it is under retention (`retain_until` after `now`), names a staging object, holds a
   * reservation, has derivative rows, or has an event not yet fanned out or with a delivery
   * not settled (`SETTLED_DELIVERIES`). One statement; on PostgreSQL its rows are picked
   * `FOR UPDATE SKIP LOCKED`, so concurrent sweepers delete disjoint rows and each deleted
   * row is returned by exactly one of them.
   */
  purgeUploads(input: { finishedBefore: Date; after: PurgeCursor | undefined; limit: number; now: Date }): Promise<PurgedUpload[]>;
  /** The rows `purgeUploads` would take, after `after`, in the same order. Changes nothing. */
  findPurgeableUploads(input: { finishedBefore: Date; after: PurgeCursor | undefined; limit: number; now: Date }): Promise<PurgedUpload[]>;
  /**
   * In one transaction: deletes up to `limit` outbox events written before `before` whose
   * deliveries are all settled (and which were fanned out), by id from `after`, with their
   * delivery rows; returns them. Locked `FOR UPDATE SKIP LOCKED` on PostgreSQL, as above.
   */
  purgeEvents(input: { before: Date; after: string | undefined; limit: number }): Promise<PurgedEvent[]>;
  /** The events `purgeEvents` would take, after the id `after`, by id. Changes nothing. */
  findPurgeableEvents(input: { before: Date; after: string | undefined; limit: number }): Promise<PurgedEvent[]>;
  /**
   * Deletes up to `limit` upload links that expired or were revoked before `endedBefore`, and
   * returns their ids. Their uploads keep their `link_id` (a link that is gone counts as revoked).
   */
  purgeLinks(input: { endedBefore: Date; limit: number }): Promise<string[]>;
  /** The links `purgeLinks` would take, after the id `after`, by id. Changes nothing. */
  findPurgeableLinks(input: { endedBefore: Date; after: string | undefined; limit: number }): Promise<string[]>;
}

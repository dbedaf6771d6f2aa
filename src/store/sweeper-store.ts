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
  /** When it finished (`finished_at`): a dry run's cursor. */
  finishedAt: Date;
}

/** An outbox event the history purge removed with its deliveries (or would). */
export interface PurgedEvent {
  id: string;
  uploadId: string;
  type: string;
}

/** Where a dry run of one history job has got to: after this row, in the order the job walks. */
export interface PurgeCursor {
  /** For upload rows, the last row's `finished_at`; unused for events and links. */
  at?: Date | undefined;
  id: string;
}

/** What one batch of a history purge did. */
export interface PurgeBatch<T> {
  /** The rows it deleted. */
  purged: T[];
  /** How many rows it read (deleted, or kept and held); fewer than its limit: nothing further to read. */
  read: number;
  /** The id of the last row it read, for paging the held ones. */
  last: string | undefined;
  /** Another sweeper is running this job (its cursor row is locked): this one leaves it. */
  busy: boolean;
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
   * One batch of the history purge, from where the last batch of any run stopped (the `history`
   * cursor, kept in the database): reads up to `limit` finished upload rows (`isFinished`) that
   * finished before `finishedBefore`, in (`finished_at`, id) order, deletes those nothing needs
   * and records the others as held (`purgeHeldUploads` looks at them again). A row is kept,
   * however old, while it is under retention (`retain_until` after `now`), names a staging
   * object, holds a reservation, has derivative rows, or has an event not yet fanned out or with
   * a delivery not settled (`SETTLED_DELIVERIES`). One transaction that locks the job's cursor
   * row (`FOR UPDATE SKIP LOCKED` on PostgreSQL; SQLite has one writer) and moves it past what
   * it read: of two sweepers one works the job and the other gets `busy`, and a batch that rolls
   * back leaves the cursor where it was, so no row is passed unread.
   */
  purgeUploads(input: { finishedBefore: Date; limit: number; now: Date }): Promise<PurgeBatch<PurgedUpload>>;
  /**
   * One batch of the rows held by earlier batches that are due for a check (every run, or at the
   * end of their retention), by id after `after`: deletes those whose guard has lifted, forgets
   * those that are gone, and leaves the rest held. Locked as `purgeUploads`.
   */
  purgeHeldUploads(input: { after: string | undefined; limit: number; now: Date }): Promise<PurgeBatch<PurgedUpload>>;
  /** The rows the history purge would take (behind the cursor too), after `after`, in (`finished_at`, id) order. Changes nothing. */
  findPurgeableUploads(input: { finishedBefore: Date; after: PurgeCursor | undefined; limit: number; now: Date }): Promise<PurgedUpload[]>;
  /**
   * One batch of the outbox purge, from the `outbox` cursor: reads up to `limit` events written
   * before `before`, by id, deletes (with their delivery rows) those fanned out whose deliveries
   * are all settled, and holds the others. Locked as `purgeUploads`.
   */
  purgeEvents(input: { before: Date; limit: number; now: Date }): Promise<PurgeBatch<PurgedEvent>>;
  /** One batch of the events held by earlier batches, by id after `after`, as `purgeHeldUploads`. */
  purgeHeldEvents(input: { before: Date; after: string | undefined; limit: number; now: Date }): Promise<PurgeBatch<PurgedEvent>>;
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

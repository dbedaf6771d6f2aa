import type { PolicySet } from "../policies/policy.js";
import type { StorageDriver } from "../storage/driver.js";
import type { SweeperStore } from "../store/sweeper-store.js";

/**
 * The sweeper's jobs, in the order `sweep` runs them. The history purges come last: `history`
 * (finished upload rows), `outbox` (settled events, with their deliveries), `links` (upload
 * links long over); they remove rows only, never an object.
 */
export const SWEEP_JOBS = ["reservations", "abandoned", "unattached", "retention", "missing", "staging", "orphans", "history", "outbox", "links"] as const;
export type SweepJob = (typeof SWEEP_JOBS)[number];

/**
 * What happened to one item: an upload row moved to `expired` (its object deleted with it), an
 * orphan or staging object `deleted`, a reservation `released`, a row of history `purged`
 * (an upload row, an outbox event, a link: the job says which), their dry-run forms, `kept` (a
 * missing object under retention: the row stays for an operator to restore), `failed` (nothing
 * changed), or `skipped` (an entry the job cannot handle, such as an object whose name is no
 * valid key: left alone, `error` says why).
 */
export type SweepAction =
  | "expired"
  | "deleted"
  | "released"
  | "purged"
  | "would-expire"
  | "would-delete"
  | "would-release"
  | "would-purge"
  | "kept"
  | "failed"
  | "skipped";

/** One progress event per item a job handles. */
export interface SweepEvent {
  job: SweepJob;
  action: SweepAction;
  /** The logical bucket (as policies name it) and the object key; both empty for an outbox event or a link. */
  bucket: string;
  key: string;
  /**
   * Storage freed (or that a dry run would free). For abandoned uploads, their declared size:
   * exact for an uploaded object, an upper bound for one never sent (see `abandoned`).
   */
  bytes: number;
  uploadId?: string;
  /** The outbox event purged (job `outbox`). */
  eventId?: string;
  /** The upload link purged (job `links`). */
  linkId?: string;
  /** A pending multipart upload was aborted (or would be). */
  multipartAborted?: boolean;
  /** Why an item was kept or expired without an object. */
  reason?: string;
  /**
   * What was left behind, e.g. an object whose delete failed after its row expired: the orphan
   * sweep removes it on a later run.
   */
  error?: string;
}

/** What every job takes. */
export interface SweepJobOptions {
  store: SweeperStore;
  driver: StorageDriver;
  policies: PolicySet;
  /** The sweep's clock: every cutoff is computed from it (tests pass a future date). */
  now: Date;
  /** Rows claimed per statement, keys looked up and deleted per request (at most 1000). */
  batchSize: number;
  signal?: AbortSignal | undefined;
  /** Report what would happen, change nothing: SELECTs only, no state change, no delete. */
  dryRun: boolean;
}

/** Milliseconds in a second and a day, for cutoffs. */
export const SECOND_MS = 1000;
export const DAY_MS = 24 * 3600 * SECOND_MS;

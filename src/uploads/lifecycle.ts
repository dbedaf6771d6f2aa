import { UPLOAD_STATUSES, type UploadStatus } from "./status.js";

/**
 * The upload state machine, written down once. Every state change in the store is guarded by
 * the `from` states listed here, so a transition that is not in this table cannot happen; and
 * every query that selects uploads by state asks one of the named checks below, so no status
 * literal lives outside this file and `status.ts`.
 *
 *   pending ──confirm──▶ confirmed ──delete──▶ deleted
 *      │                     (retention/sweeper) ──▶ expired
 *      ├──confirm, policy scans──▶ scanning ──clean──▶ confirmed
 *      │                              ├──found──▶ infected ──delete──▶ deleted
 *      │                              ├──too large for the scanner──▶ rejected
 *      │                              └──delete──▶ deleted
 *      ├──reject──▶ rejected ──delete──▶ deleted
 *      ├──delete──▶ deleted
 *      └──sweep───▶ expired
 */
export const TRANSITIONS: Readonly<Record<UploadStatus, readonly UploadStatus[]>> = {
  pending: ["scanning", "confirmed", "rejected", "deleted", "expired"],
  scanning: ["confirmed", "infected", "rejected", "deleted"],
  confirmed: ["deleted", "expired"],
  rejected: ["deleted"],
  infected: ["deleted"],
  deleted: [],
  expired: [],
};

/** Where every upload starts: presigned, awaiting its bytes. */
export const INITIAL_STATUS: UploadStatus = "pending";

/** The states an upload may be in to move to `to`. */
export function sourcesOf(to: UploadStatus): UploadStatus[] {
  return UPLOAD_STATUSES.filter((from) => TRANSITIONS[from].includes(to));
}

export function canTransition(from: UploadStatus, to: UploadStatus): boolean {
  return TRANSITIONS[from].includes(to);
}

/** States nothing leaves: the upload's objects are gone (or going) for good. */
export function isFinal(status: UploadStatus): boolean {
  return TRANSITIONS[status].length === 0;
}

/** The client may still upload to it: its URLs work, its parts can be signed, it can be confirmed. */
export function isAwaitingUpload(status: UploadStatus): boolean {
  return status === "pending";
}

/** Verified (and scanned, where the policy asks) bytes: served, downloadable, attachable. */
export function isServable(status: UploadStatus): boolean {
  return status === "confirmed";
}

/** Verified bytes waiting for the scanner: never served; the declared size stays reserved. */
export function isScanning(status: UploadStatus): boolean {
  return status === "scanning";
}

/** Its objects exist, or may yet: pending, scanning or confirmed (what the orphan check keeps). */
export function isLive(status: UploadStatus): boolean {
  return status === "pending" || status === "scanning" || status === "confirmed";
}

/** Shown in its owner's list: everything but what the owner deleted. */
export function isListed(status: UploadStatus): boolean {
  return status !== "deleted";
}

/** Refused at confirm or by the scanner: kept (for the owner to see why) until deleted. */
export function isRefused(status: UploadStatus): boolean {
  return status === "rejected" || status === "infected";
}

/**
 * Its story is told: final (deleted, expired), or refused and only waiting for its owner to
 * delete it. Nothing more happens to its bytes or its quota; the history purge
 * (`sweeper/history.ts`) removes such rows once they have been finished for the window.
 */
export function isFinished(status: UploadStatus): boolean {
  return isFinal(status) || isRefused(status);
}

/** Every status for which `check` holds, for a query's `WHERE status IN (…)`. */
export function statusesWhere(check: (status: UploadStatus) => boolean): UploadStatus[] {
  return UPLOAD_STATUSES.filter(check);
}

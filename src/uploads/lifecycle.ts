import type { UploadStatus } from "../store/records.js";

/**
 * The upload state machine, written down once. Every state change in the store is guarded by
 * the `from` states listed here, so a transition that is not in this table cannot happen.
 *
 *   pending ──confirm──▶ confirmed ──delete──▶ deleted
 *      │                     (retention/sweeper) ──▶ expired
 *      ├──reject──▶ rejected ──delete──▶ deleted
 *      ├──delete──▶ deleted
 *      └──sweep───▶ expired
 */
export const TRANSITIONS: Readonly<Record<UploadStatus, readonly UploadStatus[]>> = {
  pending: ["confirmed", "rejected", "deleted", "expired"],
  confirmed: ["deleted", "expired"],
  rejected: ["deleted"],
  deleted: [],
  expired: [],
};

/** The states an upload may be in to move to `to`. */
export function sourcesOf(to: UploadStatus): UploadStatus[] {
  return (Object.keys(TRANSITIONS) as UploadStatus[]).filter((from) =>
    TRANSITIONS[from].includes(to),
  );
}

export function canTransition(from: UploadStatus, to: UploadStatus): boolean {
  return TRANSITIONS[from].includes(to);
}

/** States whose object is gone (or going) for good. */
export function isFinal(status: UploadStatus): boolean {
  return TRANSITIONS[status].length === 0;
}

import { type ErrorCode, isStowageError } from "../errors.js";

/** How a service call ended: `ok`, or the code of the StowageError it refused with. */
export type UploadOutcome = "ok" | ErrorCode;

/**
 * Told what the upload service did, for metrics. The service knows nothing of how it is
 * counted (`src/metrics/` implements this), and counts at the service level so every surface
 * that calls it (REST and GraphQL) is counted alike. Calls are synchronous and must not throw.
 * `ownerType` is what the caller asked for, unchecked (an unknown owner type included), or
 * `undefined` when the upload was not found.
 */
export interface UploadObserver {
  /** Every presign answered, with the method the caller asked for. */
  presigned(ownerType: string, method: "put" | "post", outcome: UploadOutcome): void;
  /** Every confirm answered (repeats of a settled upload answer, and count, again). */
  confirmed(ownerType: string | undefined, outcome: UploadOutcome): void;
  /** An upload became confirmed: `bytes` now count against its quota. Once per upload. */
  charged(ownerType: string, bytes: number): void;
  /** An upload was deleted; `bytes` were confirmed and are given back (0: it was never confirmed). Once per upload. */
  deleted(ownerType: string, bytes: number): void;
  /** A quota subject refused a reservation (presign) or a charge (confirm). */
  quotaRefused(stage: "presign" | "confirm", subject: "user" | "org", reason: "bytes" | "pending"): void;
}

/** The outcome of a settled call: a StowageError's code, anything else `INTERNAL`. */
export function outcomeOf(error: unknown): UploadOutcome {
  return isStowageError(error) ? error.code : "INTERNAL";
}

/** `work`, reporting how it ended to `report` on its way through. */
export function reportOutcome<T>(work: Promise<T>, report: (outcome: UploadOutcome) => void): Promise<T> {
  return work.then(
    (value) => {
      report("ok");
      return value;
    },
    (error: unknown) => {
      report(outcomeOf(error));
      throw error;
    },
  );
}

/** The kind of quota subject (`user:alice`, `org:acme`), for a label that stays bounded. */
export function subjectKind(subject: string): "user" | "org" {
  return subject.startsWith("org:") ? "org" : "user";
}

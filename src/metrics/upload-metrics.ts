import type { Counter } from "prom-client";
import type { UploadObserver, UploadOutcome } from "../uploads/observer.js";
import type { Metrics } from "./registry.js";

type Child = Counter.Internal;

/**
 * The upload service's observer, counting into `metrics`. A presign's or confirm's `ok`
 * counter child is made once per owner type and method and kept: `labels()` builds a labels
 * object and a bound function on every call (prom-client 15 still joins the label values into
 * its key on each `inc`). Refusals are rare and go through `labels()`.
 */
export function uploadMetrics(metrics: Metrics): UploadObserver {
  const presignOk = new Map<string, Child>();
  const confirmOk = new Map<string, Child>();
  const cached = (cache: Map<string, Child>, key: string, make: () => Child): Child => {
    let child = cache.get(key);
    if (child === undefined) {
      child = make();
      cache.set(key, child);
    }
    return child;
  };
  return {
    presigned(ownerType: string, method: "put" | "post", outcome: UploadOutcome) {
      const label = metrics.ownerTypeLabel(ownerType);
      if (outcome === "ok") cached(presignOk, method === "put" ? label : `${label} post`, () => metrics.presigns.labels(label, method, "ok")).inc();
      else metrics.presigns.labels(label, method, outcome).inc();
    },
    confirmed(ownerType: string | undefined, outcome: UploadOutcome) {
      const label = metrics.ownerTypeLabel(ownerType);
      if (outcome === "ok") cached(confirmOk, label, () => metrics.confirms.labels(label, "ok")).inc();
      else metrics.confirms.labels(label, outcome).inc();
    },
    charged(ownerType: string, bytes: number) {
      metrics.confirmedBytes.labels(metrics.ownerTypeLabel(ownerType)).inc(bytes);
    },
    deleted(ownerType: string, bytes: number) {
      const label = metrics.ownerTypeLabel(ownerType);
      metrics.deletes.labels(label).inc();
      metrics.deletedBytes.labels(label).inc(bytes);
    },
    quotaRefused(stage, subject, reason) {
      metrics.quotaRefusals.labels(stage, subject, reason).inc();
    },
  };
}

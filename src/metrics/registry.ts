import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";

/** The label value of owner types no policy names: callers choose the owner type, so it is never a label as sent. */
export const UNKNOWN_OWNER_TYPE = "unknown";

/** HTTP latency buckets, in seconds: presigns take milliseconds, local uploads of large files minutes. */
const DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

/**
 * Every metric of one Stowage runtime, in a registry of its own (never prom-client's global
 * one: tests run several instances in one process, and each must expose only its own). The
 * README's "Metrics" section lists them; labels only ever take values from fixed sets (owner
 * types of the policies, error codes, route templates, sweep jobs), so no request can add a
 * series.
 */
export class Metrics {
  readonly registry = new Registry();
  readonly #ownerTypes: ReadonlySet<string>;

  readonly presigns = this.#counter("stowage_presign_total", "Presigns answered, by owner type, requested method and outcome (ok or the error code).", [
    "owner_type",
    "method",
    "outcome",
  ]);

  readonly confirms = this.#counter("stowage_confirm_total", "Confirms answered, by owner type and outcome (ok or the error code); a repeated confirm counts again.", [
    "owner_type",
    "outcome",
  ]);

  readonly confirmedBytes = this.#counter("stowage_confirmed_bytes_total", "Bytes of uploads that became confirmed (charged to quota), once per upload.", ["owner_type"]);
  readonly deletes = this.#counter("stowage_deletes_total", "Uploads deleted through the API, once per upload.", ["owner_type"]);
  readonly deletedBytes = this.#counter("stowage_deleted_bytes_total", "Confirmed bytes given back by deletes through the API.", ["owner_type"]);
  readonly quotaRefusals = this.#counter(
    "stowage_quota_refusals_total",
    "Quota refusals: stage presign|confirm, subject_kind user|org, reason bytes (QUOTA_EXCEEDED) | pending (TOO_MANY_PENDING_UPLOADS).",
    ["stage", "subject_kind", "reason"],
  );

  readonly errors = this.#counter("stowage_errors_total", "Error answers of routes and hooks, by error code (STORAGE_UNAVAILABLE, DATABASE_UNAVAILABLE, INTERNAL, ...).", ["code"]);
  readonly httpDuration = new Histogram({
    name: "stowage_http_request_duration_seconds",
    help: "HTTP requests, from arrival to the answer's end, by method, route template (unmatched: no route) and status code.",
    labelNames: ["method", "route", "status_code"] as const,
    buckets: DURATION_BUCKETS,
    registers: [this.registry],
  });

  readonly redisFallback = new Gauge({
    name: "stowage_redis_fallback",
    help: "1 while Redis is not connected and the in-process URL cache and rate limits stand in; 0 when it is. Absent without REDIS_URL.",
    registers: [],
  });

  readonly redisErrors = this.#counter("stowage_redis_errors_total", "Redis commands that failed and fell back to the in-process cache or rate limiter.", []);

  readonly sweepRuns = this.#counter("stowage_sweep_runs_total", "Scheduled sweeps finished, by result: ok, problems (a job failed or an item left something behind), aborted.", [
    "result",
  ]);

  readonly sweepItems = this.#counter("stowage_sweep_items_total", "Items the scheduled sweeps handled, by job and action (expired, deleted, released, ...).", ["job", "action"]);
  readonly sweepBytes = this.#counter("stowage_sweep_bytes_total", "Bytes the scheduled sweeps freed, by job.", ["job"]);
  readonly sweepItemErrors = this.#counter("stowage_sweep_item_errors_total", "Sweep items that left something behind, by job.", ["job"]);
  readonly sweepJobFailures = this.#counter("stowage_sweep_job_failures_total", "Sweep jobs that stopped early (database or store unreachable), by job.", ["job"]);
  readonly sweepLastDuration = new Gauge({
    name: "stowage_sweep_last_duration_seconds",
    help: "How long the last scheduled sweep took.",
    registers: [this.registry],
  });

  readonly sweepLastRun = new Gauge({
    name: "stowage_sweep_last_run_timestamp_seconds",
    help: "When the last scheduled sweep finished (Unix time).",
    registers: [this.registry],
  });

  /**
   * @param options.ownerTypes the policies' owner types: the only `owner_type` values besides `unknown`.
   * @param options.defaultMetrics prom-client's process and Node.js metrics (CPU, memory, event loop lag, GC). Default true.
   * @param options.redis whether Redis is configured (the fallback gauge is exposed only then).
   */
  constructor(options: { ownerTypes: Iterable<string>; defaultMetrics?: boolean; redis?: boolean }) {
    this.#ownerTypes = new Set(options.ownerTypes);
    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry });
    if (options.redis === true) this.registry.registerMetric(this.redisFallback);
    // Series that exist from the start read 0 rather than being absent, so rate() sees the first one.
    for (const ownerType of this.#ownerTypes) {
      this.presigns.labels(ownerType, "put", "ok").inc(0);
      this.confirms.labels(ownerType, "ok").inc(0);
      this.confirmedBytes.labels(ownerType).inc(0);
    }
  }

  /** The `owner_type` label of an owner type: itself if a policy names it, else `unknown`. */
  ownerTypeLabel(ownerType: string | undefined): string {
    return ownerType !== undefined && this.#ownerTypes.has(ownerType) ? ownerType : UNKNOWN_OWNER_TYPE;
  }

  /** The exposition text and its content type, for `GET /metrics`. */
  async scrape(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }

  #counter<L extends string>(name: string, help: string, labelNames: readonly L[]): Counter<L> {
    return new Counter({ name, help, labelNames, registers: [this.registry] });
  }
}

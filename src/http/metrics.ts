import type { Histogram } from "prom-client";
import type { Metrics } from "../metrics/registry.js";
import { toStowageError } from "./error-handler.js";
import type { App } from "./types.js";

/** The `route` label of requests no route matched (the 404 answer): one value, whatever the URL. */
export const UNMATCHED_ROUTE = "unmatched";

type Child = Histogram.Internal<string>;

/**
 * Counts every answer into `stowage_http_request_duration_seconds` by method, *route template*
 * (`/storage/:bucket/*`, never the URL: a label per object key would grow without bound) and
 * status, and every error answer of a route or hook into `stowage_errors_total` by code.
 * Register before any route, so every route gets the hooks.
 *
 * The duration is Fastify's `reply.elapsedTime`, from the request's arrival to the end of its
 * answer. Histogram children are kept per route, method and status, so a request builds no
 * labels object or closure of its own (prom-client 15 still joins the values into its key on
 * each `observe`).
 */
export function observeRequests(app: App, metrics: Metrics): void {
  const children = new Map<string, Map<string, Map<number, Child>>>();
  const childOf = (route: string, method: string, status: number): Child => {
    let byMethod = children.get(route);
    if (byMethod === undefined) children.set(route, (byMethod = new Map()));
    let byStatus = byMethod.get(method);
    if (byStatus === undefined) byMethod.set(method, (byStatus = new Map()));
    let child = byStatus.get(status);
    if (child === undefined) byStatus.set(status, (child = metrics.httpDuration.labels(method, route, String(status))));
    return child;
  };
  app.addHook("onResponse", (request, reply, done) => {
    childOf(request.routeOptions.url ?? UNMATCHED_ROUTE, request.method, reply.statusCode).observe(reply.elapsedTime / 1000);
    done();
  });
  // Runs after the error handler answered; the router's own 404 for an unknown path does not
  // come through here (it is the `unmatched` route above).
  app.addHook("onError", (_request, _reply, error, done) => {
    metrics.errors.labels(toStowageError(error).code).inc();
    done();
  });
}

import { callerOf } from "../auth.js";
import type { App, HttpDeps } from "../types.js";

/** `GET /v1/quota`: the caller's used and allowed bytes. */
export function registerGetQuota(app: App, deps: HttpDeps): void {
  app.get("/v1/quota", (request) => deps.service.quota(callerOf(request)));
}

import { operations } from "../../api/operations.js";
import { callerOf } from "../auth.js";
import type { App, HttpDeps } from "../types.js";

const { getQuota } = operations;

/** `GET /v1/quota`: the caller's used and allowed bytes. */
export function registerGetQuota(app: App, deps: HttpDeps): void {
  app.get(getQuota.path, { schema: getQuota.schema }, (request) => deps.service.quota(callerOf(request)));
}

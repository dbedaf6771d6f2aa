import { operations } from "../../api/operations.js";
import { callerOf } from "../auth.js";
import type { App, HttpDeps } from "../types.js";

const { listPolicies } = operations;

/** `GET /v1/policies`: the owner types the caller may upload, and their limits. */
export function registerListPolicies(app: App, deps: HttpDeps): void {
  app.get(listPolicies.path, { schema: listPolicies.schema }, (request) => deps.service.policies(callerOf(request)));
}

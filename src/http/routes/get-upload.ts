import { operations } from "../../api/operations.js";
import { callerOf } from "../auth.js";
import type { App, HttpDeps } from "../types.js";

const { getUpload } = operations;

/** `GET /v1/uploads/{id}`: one of the caller's uploads. */
export function registerGetUpload(app: App, deps: HttpDeps): void {
  app.get(getUpload.path, { schema: getUpload.schema }, (request) => deps.service.get(callerOf(request), request.params.id));
}

import { operations } from "../../api/operations.js";
import { callerOf } from "../auth.js";
import type { App, HttpDeps } from "../types.js";

const { confirmUpload } = operations;

/** `POST /v1/uploads/{id}/confirm`: verify the stored object and charge the quota. Idempotent. */
export function registerConfirmUpload(app: App, deps: HttpDeps): void {
  app.post(confirmUpload.path, { schema: confirmUpload.schema }, (request) => deps.service.confirm(callerOf(request), request.params.id));
}

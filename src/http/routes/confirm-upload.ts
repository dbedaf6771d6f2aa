import { callerOf } from "../auth.js";
import type { App, HttpDeps } from "../types.js";
import { UploadIdParams } from "./schemas.js";

/** `POST /v1/uploads/{id}/confirm`: verify the stored object and charge the quota. Idempotent. */
export function registerConfirmUpload(app: App, deps: HttpDeps): void {
  app.post("/v1/uploads/:id/confirm", { schema: { params: UploadIdParams } }, (request) =>
    deps.service.confirm(callerOf(request), request.params.id),
  );
}

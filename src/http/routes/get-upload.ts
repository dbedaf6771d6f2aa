import { callerOf } from "../auth.js";
import type { App, HttpDeps } from "../types.js";
import { UploadIdParams } from "./schemas.js";

/** `GET /v1/uploads/{id}`: one of the caller's uploads. */
export function registerGetUpload(app: App, deps: HttpDeps): void {
  app.get("/v1/uploads/:id", { schema: { params: UploadIdParams } }, (request) =>
    deps.service.get(callerOf(request), request.params.id),
  );
}

import { operations } from "../../api/operations.js";
import { callerOf } from "../auth.js";
import type { App, HttpDeps } from "../types.js";

const { signParts } = operations;

/** `POST /v1/uploads/{id}/parts`: presigned URLs for more parts, or again for expired ones (with their MD5s signed). */
export function registerSignParts(app: App, deps: HttpDeps): void {
  app.post(signParts.path, { schema: signParts.schema }, (request) =>
    deps.service.signParts(callerOf(request), request.params.id, request.body),
  );
}

import { operations } from "../../api/operations.js";
import { callerOf } from "../auth.js";
import type { App, HttpDeps } from "../types.js";

const { listParts } = operations;

/** `GET /v1/uploads/{id}/parts`: the parts a multipart upload already holds, to resume it. */
export function registerListParts(app: App, deps: HttpDeps): void {
  app.get(listParts.path, { schema: listParts.schema }, (request) => deps.service.listParts(callerOf(request), request.params.id));
}

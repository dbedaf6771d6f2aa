import { operations } from "../../api/operations.js";
import { callerOf } from "../auth.js";
import type { App, HttpDeps } from "../types.js";

const { listUploads } = operations;

/** `GET /v1/uploads`: the caller's uploads, newest first, a page at a time. */
export function registerListUploads(app: App, deps: HttpDeps): void {
  app.get(listUploads.path, { schema: listUploads.schema }, (request) =>
    deps.service.list(callerOf(request), {
      ownerType: request.query.ownerType,
      cursor: request.query.cursor,
      limit: request.query.limit ?? 50,
    }),
  );
}

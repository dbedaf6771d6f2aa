import { operations } from "../../api/operations.js";
import { callerOf } from "../auth.js";
import type { App, HttpDeps } from "../types.js";

const { attachUploads } = operations;

/** `POST /v1/uploads/attach`: link confirmed uploads to an application record, all or none. */
export function registerAttachUploads(app: App, deps: HttpDeps): void {
  app.post(attachUploads.path, { schema: attachUploads.schema }, async (request) => ({
    items: await deps.service.attach(callerOf(request), request.body.uploadIds, request.body.parent),
  }));
}

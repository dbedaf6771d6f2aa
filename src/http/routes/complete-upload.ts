import { operations } from "../../api/operations.js";
import { callerOf } from "../auth.js";
import type { App, HttpDeps } from "../types.js";

const { completeUpload } = operations;

/** `POST /v1/uploads/{id}/complete`: assemble a multipart upload from its parts' ETags. */
export function registerCompleteUpload(app: App, deps: HttpDeps): void {
  app.post(completeUpload.path, { schema: completeUpload.schema, bodyLimit: 1024 * 1024 }, (request) =>
    deps.service.complete(callerOf(request), request.params.id, request.body.parts),
  );
}

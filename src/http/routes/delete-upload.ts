import { operations } from "../../api/operations.js";
import { callerOf } from "../auth.js";
import type { App, HttpDeps } from "../types.js";

const { deleteUpload } = operations;

/** `DELETE /v1/uploads/{id}`: delete the object and give its bytes back to the quota. */
export function registerDeleteUpload(app: App, deps: HttpDeps): void {
  app.delete(deleteUpload.path, { schema: deleteUpload.schema }, async (request, reply) => {
    await deps.service.remove(callerOf(request), request.params.id);
    return reply.status(204).send(null);
  });
}

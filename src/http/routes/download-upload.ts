import { operations } from "../../api/operations.js";
import { callerOf } from "../auth.js";
import type { App, HttpDeps } from "../types.js";

const { downloadUpload } = operations;

/**
 * `GET /v1/uploads/{id}/download`: a short-lived signed URL that downloads under the original
 * filename; with `?redirect=true`, a 302 to it.
 */
export function registerDownloadUpload(app: App, deps: HttpDeps): void {
  app.get(downloadUpload.path, { schema: downloadUpload.schema }, async (request, reply) => {
    const answer = await deps.service.download(callerOf(request), request.params.id);
    void reply.header("Cache-Control", "no-store");
    if (request.query.redirect === true) return reply.redirect(answer.url, 302);
    return reply.send(answer);
  });
}

import Type from "typebox";
import { callerOf } from "../auth.js";
import type { App, HttpDeps } from "../types.js";
import { UploadIdParams } from "./schemas.js";

const Query = Type.Object(
  { redirect: Type.Optional(Type.Boolean()) },
  { additionalProperties: false },
);

/**
 * `GET /v1/uploads/{id}/download`: a short-lived signed URL that downloads under the original
 * filename; with `?redirect=true`, a 302 to it.
 */
export function registerDownloadUpload(app: App, deps: HttpDeps): void {
  app.get(
    "/v1/uploads/:id/download",
    { schema: { params: UploadIdParams, querystring: Query } },
    async (request, reply) => {
      const { url, expiresAt } = await deps.service.download(callerOf(request), request.params.id);
      if (request.query.redirect === true)
        return reply.header("Cache-Control", "no-store").redirect(url, 302);
      return reply
        .header("Cache-Control", "no-store")
        .send({ url, expiresAt: expiresAt.toISOString() });
    },
  );
}

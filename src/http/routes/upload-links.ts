import { operations } from "../../api/operations.js";
import { callerOf } from "../auth.js";
import type { App, HttpDeps } from "../types.js";

const { createUploadLink, listUploadLinks, getUploadLink, revokeUploadLink } = operations;

/** `/v1/upload-links`: make, list, show and revoke upload links (a user's; never through a link). */
export function registerUploadLinks(app: App, deps: HttpDeps): void {
  app.post(createUploadLink.path, { schema: createUploadLink.schema }, async (request, reply) => {
    const created = await deps.links.create(callerOf(request), request.body);
    return reply.status(201).send(created);
  });
  app.get(listUploadLinks.path, { schema: listUploadLinks.schema }, (request) =>
    deps.links.list(callerOf(request), { cursor: request.query.cursor, limit: request.query.limit }),
  );
  app.get(getUploadLink.path, { schema: getUploadLink.schema }, (request) => deps.links.get(callerOf(request), request.params.id));
  app.delete(revokeUploadLink.path, { schema: revokeUploadLink.schema }, async (request, reply) => {
    await deps.links.revoke(callerOf(request), request.params.id);
    return reply.status(204).send(null);
  });
}

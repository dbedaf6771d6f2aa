import { operations } from "../../api/operations.js";
import { callerOf } from "../auth.js";
import type { App, HttpDeps } from "../types.js";

const { createUpload } = operations;

/** `POST /v1/uploads`: check the policy and quota, then hand out a presigned upload. */
export function registerCreateUpload(app: App, deps: HttpDeps): void {
  app.post(createUpload.path, { schema: createUpload.schema }, async (request, reply) =>
    reply.status(201).send(await deps.service.presign(callerOf(request), request.body)),
  );
}

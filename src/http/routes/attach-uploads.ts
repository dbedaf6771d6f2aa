import Type from "typebox";
import { callerOf } from "../auth.js";
import type { App, HttpDeps } from "../types.js";
import { UploadId } from "./schemas.js";

const Body = Type.Object(
  {
    uploadIds: Type.Array(UploadId, { minItems: 1, maxItems: 100 }),
    parent: Type.Object(
      {
        type: Type.String({ pattern: "^[a-z][a-z0-9_]{0,63}$", description: "The application's record type, e.g. message." }),
        id: Type.String({ minLength: 1, maxLength: 128 }),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);

/** `POST /v1/uploads/attach`: link confirmed uploads to an application record, all or none. */
export function registerAttachUploads(app: App, deps: HttpDeps): void {
  app.post("/v1/uploads/attach", { schema: { body: Body } }, async (request) => ({
    items: await deps.service.attach(callerOf(request), request.body.uploadIds, request.body.parent),
  }));
}

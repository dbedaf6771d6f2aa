import Type from "typebox";
import { callerOf } from "../auth.js";
import type { App, HttpDeps } from "../types.js";
import { UploadIdParams } from "./schemas.js";

const Body = Type.Object(
  {
    parts: Type.Array(
      Type.Object(
        { partNumber: Type.Integer({ minimum: 1, maximum: 10_000 }), etag: Type.String({ minLength: 1, maxLength: 128 }) },
        { additionalProperties: false },
      ),
      { minItems: 1, maxItems: 10_000 },
    ),
  },
  { additionalProperties: false },
);

/** `POST /v1/uploads/{id}/complete`: assemble a multipart upload from its parts' ETags. */
export function registerCompleteUpload(app: App, deps: HttpDeps): void {
  app.post("/v1/uploads/:id/complete", { schema: { params: UploadIdParams, body: Body }, bodyLimit: 1024 * 1024 }, (request) =>
    deps.service.complete(callerOf(request), request.params.id, request.body.parts),
  );
}

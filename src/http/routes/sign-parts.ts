import Type from "typebox";
import { callerOf } from "../auth.js";
import type { App, HttpDeps } from "../types.js";
import { UploadIdParams } from "./schemas.js";

const Body = Type.Object(
  { partNumbers: Type.Array(Type.Integer({ minimum: 1, maximum: 10_000 }), { minItems: 1, maxItems: 100 }) },
  { additionalProperties: false },
);

/** `POST /v1/uploads/{id}/parts`: presigned URLs for more parts, or again for expired ones. */
export function registerSignParts(app: App, deps: HttpDeps): void {
  app.post("/v1/uploads/:id/parts", { schema: { params: UploadIdParams, body: Body } }, (request) =>
    deps.service.signParts(callerOf(request), request.params.id, request.body.partNumbers),
  );
}

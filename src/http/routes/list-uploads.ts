import Type from "typebox";
import { callerOf } from "../auth.js";
import type { App, HttpDeps } from "../types.js";
import { OwnerType } from "./schemas.js";

const Query = Type.Object(
  {
    ownerType: Type.Optional(OwnerType),
    cursor: Type.Optional(Type.String({ maxLength: 128 })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
  },
  { additionalProperties: false },
);

/** `GET /v1/uploads`: the caller's uploads, newest first, a page at a time. */
export function registerListUploads(app: App, deps: HttpDeps): void {
  app.get("/v1/uploads", { schema: { querystring: Query } }, (request) =>
    deps.service.list(callerOf(request), {
      ownerType: request.query.ownerType,
      cursor: request.query.cursor,
      limit: request.query.limit ?? 50,
    }),
  );
}

import Type from "typebox";
import { callerOf } from "../auth.js";
import type { App, HttpDeps } from "../types.js";
import { OwnerId, OwnerType } from "./schemas.js";

const Body = Type.Object(
  {
    ownerType: OwnerType,
    filename: Type.String({ minLength: 1, maxLength: 1024 }),
    contentType: Type.String({ minLength: 3, maxLength: 255 }),
    size: Type.Integer({ minimum: 1, maximum: 5 * 1024 ** 4, description: "Exact size in bytes." }),
    ownerId: Type.Optional(OwnerId),
    method: Type.Optional(Type.Union([Type.Literal("PUT"), Type.Literal("POST")], { description: "POST: a form upload with a signed policy." })),
  },
  { additionalProperties: false },
);

/** `POST /v1/uploads`: check the policy and quota, then hand out a presigned upload. */
export function registerCreateUpload(app: App, deps: HttpDeps): void {
  app.post("/v1/uploads", { schema: { body: Body } }, async (request, reply) => {
    const answer = await deps.service.presign(callerOf(request), request.body);
    return reply.status(201).send({ ...answer, expiresAt: answer.expiresAt.toISOString() });
  });
}

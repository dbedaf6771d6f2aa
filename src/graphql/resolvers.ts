import type { Principal } from "../auth/principal.js";
import type { IResolvers, MercuriusContext } from "mercurius";
import type { PresignAnswer } from "../api/index.js";
import { AttachRequest, CompleteRequest, ListUploadsQuery, ObjectKey, PresignRequest, SignPartsRequest, UploadId } from "../api/index.js";
import { StowageError } from "../errors.js";
import type { UploadService } from "../uploads/service.js";
import { checkInput, within } from "./input.js";
import { SafeInt } from "./safe-int.js";

declare module "mercurius" {
  /** What each resolver gets: the caller the auth hook verified (`plugin.ts`). */
  interface MercuriusContext {
    caller: Principal;
  }
}
type GraphqlContext = MercuriusContext;

type Args = Record<string, unknown>;

/** `{ "Content-Type": "image/png" }` as `[{ name, value }]`: GraphQL has no map type. */
const pairs = (map: Record<string, string>) => Object.entries(map).map(([name, value]) => ({ name, value }));

const signedPart = (part: { partNumber: number; url: string; method: string; headers: Record<string, string>; expiresAt: string }) => ({
  ...part,
  headers: pairs(part.headers),
});

/** The presign answer as the SEQ-IF-001 `UploadTicket`. */
function ticket(answer: PresignAnswer) {
  const common = { uploadId: answer.id, objectKey: answer.key, kind: answer.kind, method: answer.method, expiresAt: answer.expiresAt };
  switch (answer.kind) {
    case "put":
      return { ...common, url: answer.url, headers: pairs(answer.headers), fields: null, multipart: null };
    case "post":
      return { ...common, url: answer.url, headers: pairs(answer.headers), fields: pairs(answer.fields), multipart: null };
    case "multipart":
      return {
        ...common,
        url: null,
        headers: [],
        fields: null,
        multipart: { ...answer.multipart, parts: answer.multipart.parts.map(signedPart) },
      };
  }
}

const id = (args: Args, name = "id") => checkInput<string>(UploadId, args[name], name);

/**
 * Thin: each resolver checks its arguments against the contract's schema and calls the one
 * service function the REST route calls. No business rule lives here.
 */
export function resolvers(service: UploadService): IResolvers {
  return {
    SafeInt,
    Upload: {
      derivatives: (upload: { derivatives?: unknown[] }) => upload.derivatives ?? [],
    },
    Query: {
      upload: async (_root, args: Args, { caller }: GraphqlContext) => {
        try {
          return await service.get(caller, id(args));
        } catch (error) {
          // A missing (or another user's) upload is null here, as GraphQL reads go.
          if (error instanceof StowageError && error.code === "NOT_FOUND") return null;
          throw error;
        }
      },
      uploads: async (_root, args: Args, { caller }: GraphqlContext) => {
        const query = checkInput<ListUploadsQuery>(ListUploadsQuery, { ownerType: args.ownerType, cursor: args.after, limit: args.first }, "");
        return within({ cursor: "after" }, () => service.list(caller, { ownerType: query.ownerType, cursor: query.cursor, limit: query.limit ?? 50 }));
      },
      quota: (_root, _args, { caller }: GraphqlContext) => service.quota(caller),
      policies: (_root, _args, { caller }: GraphqlContext) => service.policies(caller).items,
      uploadParts: (_root, args: Args, { caller }: GraphqlContext) => service.listParts(caller, id(args)),
      downloadUrl: (_root, args: Args, { caller }: GraphqlContext) => service.download(caller, id(args)),
    },
    // Read only when the client selects it: a confirm that asks for `success` and `cdnUrl` costs no second read.
    ConfirmResult: {
      upload: (result: { id: string }, _args, { caller }: GraphqlContext) => service.get(caller, result.id),
    },
    Mutation: {
      generateUploadUrl: async (_root, args: Args, { caller }: GraphqlContext) => {
        const fileInfo = checkInput<PresignRequest>(PresignRequest, args.fileInfo, "fileInfo");
        return ticket(await within("fileInfo", () => service.presign(caller, fileInfo)));
      },
      confirmMediaUpload: async (_root, args: Args, { caller }: GraphqlContext) => {
        const byId = args.uploadId !== undefined && args.uploadId !== null;
        const byKey = args.objectKey !== undefined && args.objectKey !== null;
        if (byId === byKey) {
          throw new StowageError("INVALID_REQUEST", "Give exactly one of uploadId and objectKey.", { details: { field: byId ? "objectKey" : "uploadId" } });
        }
        const confirmed = byId
          ? await service.confirm(caller, id(args, "uploadId"))
          : await service.confirmByKey(caller, checkInput<string>(ObjectKey, args.objectKey, "objectKey"));
        return { success: true, cdnUrl: "url" in confirmed ? confirmed.url : null, status: confirmed.status, id: confirmed.id };
      },
      deleteUpload: async (_root, args: Args, { caller }: GraphqlContext) => {
        await service.remove(caller, id(args));
        return true;
      },
      attachUploads: (_root, args: Args, { caller }: GraphqlContext) => {
        const input = checkInput<AttachRequest>(AttachRequest, { uploadIds: args.uploadIds, parent: { type: args.parentType, id: args.parentId } }, "");
        return service.attach(caller, input.uploadIds, input.parent);
      },
      signUploadParts: async (_root, args: Args, { caller }: GraphqlContext) => {
        const input = checkInput<SignPartsRequest>(SignPartsRequest, { partNumbers: args.partNumbers, contentMd5s: args.contentMd5s }, "");
        const answer = await service.signParts(caller, id(args), input);
        return answer.parts.map(signedPart);
      },
      completeUpload: (_root, args: Args, { caller }: GraphqlContext) => {
        const input = checkInput<CompleteRequest>(CompleteRequest, { parts: args.parts }, "");
        return service.complete(caller, id(args), input.parts);
      },
    },
  };
}

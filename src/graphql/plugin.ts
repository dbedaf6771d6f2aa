import type { FastifyReply, FastifyRequest } from "fastify";
import { NoSchemaIntrospectionCustomRule } from "graphql";
import mercurius from "mercurius";
import type { Authenticate } from "../auth/authenticate.js";
import { ERROR_STATUS, type ErrorCode, isStowageError, StowageError } from "../errors.js";
import { requireCaller } from "../http/auth.js";
import type { App } from "../http/types.js";
import type { UploadService } from "../uploads/service.js";
import { extensionsOf, formatErrors } from "./errors.js";
import { costLimit } from "./limits.js";
import { resolvers } from "./resolvers.js";
import { typeDefs } from "./schema.js";

export interface GraphqlOptions {
  service: UploadService;
  /** The same as REST's: a user's JWT or an upload link's token. */
  authenticate: Authenticate;
  /** Answer introspection queries (schema explorers, codegen). Off in production by default. */
  introspection: boolean;
  /**
   * Told the code of every error answered (metrics). Resolver errors answer 200 beside the data,
   * so the HTTP layer's error hook never sees them.
   */
  onError?: ((code: ErrorCode) => void) | undefined;
}

/** The deepest a query may nest (Query → uploads → items → parent → … is 4). */
const MAX_DEPTH = 8;
const MAX_FIELDS = 500;
const MAX_ROOT_FIELDS = 10;

/**
 * `POST /graphql` (and queries by `GET`), on mercurius: the same service, the same bearer
 * token, the same error codes as REST. Register inside a scope whose body guard applies.
 */
export function registerGraphql(app: App, options: GraphqlOptions): void {
  // On arrival, before the body is read, as for REST; but answered in GraphQL's shape.
  const authenticate = requireCaller(options.authenticate);
  app.addHook("onRequest", async (request: FastifyRequest, reply: FastifyReply) => {
    try {
      await authenticate(request);
    } catch (error) {
      const refusal = isStowageError(error) ? error : new StowageError("INTERNAL", "Something went wrong on our side.", { cause: error });
      if (refusal.status >= 500) request.log.error({ err: error }, "graphql authentication failed");
      options.onError?.(refusal.code);
      return reply.status(refusal.status).send({ data: null, errors: [{ message: refusal.message, extensions: extensionsOf(refusal) }] });
    }
  });
  void app.register(mercurius, {
    schema: typeDefs,
    resolvers: resolvers(options.service),
    path: "/graphql",
    graphiql: false,
    // One operation per request (a batch would multiply every limit below): mercurius' body
    // schema then refuses an array, answered 400 INVALID_REQUEST by formatErrors.
    allowBatchedQueries: false,
    queryDepth: MAX_DEPTH,
    validationRules: [
      costLimit({ maxFields: MAX_FIELDS, maxRootFields: MAX_ROOT_FIELDS }),
      ...(options.introspection ? [] : [NoSchemaIntrospectionCustomRule]),
    ],
    context: (request) => ({ caller: request.caller }),
    errorFormatter: (execution, context) => {
      const formatted = formatErrors(execution, context.reply.log);
      for (const error of formatted.response.errors ?? []) {
        const code = error.extensions?.code;
        if (typeof code === "string" && code in ERROR_STATUS) options.onError?.(code as ErrorCode);
      }
      return formatted;
    },
  });
}

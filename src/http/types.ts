import type { Principal } from "../auth/principal.js";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import type { FastifyBaseLogger, FastifyInstance, RawServerDefault } from "fastify";
import type { Authenticate } from "../auth/authenticate.js";
import type { LinkService } from "../links/service.js";
import type { LocalDriver } from "../storage/local/local-driver.js";
import type { UploadService } from "../uploads/service.js";

/** The Fastify instance with TypeBox types, as every route file sees it. */
export type App = FastifyInstance<
  RawServerDefault,
  IncomingMessage,
  ServerResponse,
  FastifyBaseLogger,
  TypeBoxTypeProvider
>;

/** What the HTTP layer needs; built by the composition root (`runtime.ts`). */
export interface HttpDeps {
  service: UploadService;
  links: LinkService;
  /** Proves a request's principal from its `Authorization` header: a user's JWT or an upload link's token. */
  authenticate: Authenticate;
  /** Resolves when the database and storage answer; throws a StowageError when not. */
  /**
   * Throws when the database or the storage does not answer. Resolves to what else it knows: the
   * scanner's state, which does not make the instance unready (uploads of scanned types wait).
   */
  ready: () => Promise<{ scanner?: "ok" | "unavailable" } | undefined>;
  /** Present when objects live on local disk and Stowage itself serves `/storage/`. */
  localDriver?: LocalDriver | undefined;
}

declare module "fastify" {
  interface FastifyRequest {
    caller: Principal | undefined;
  }
}

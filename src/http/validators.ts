import AjvCompiler from "@fastify/ajv-compiler";
import type { FastifySchemaCompiler } from "fastify";

/** What Fastify's `schemaController.compilersFactory.buildValidator` takes. */
type ValidatorFactory = AjvCompiler.BuildCompilerFromPool;

/** Unknown fields are refused, not silently dropped; every problem is listed at once. */
const COMMON = { removeAdditional: false, allErrors: true } as const;

/**
 * Fastify's own validator compiler (`@fastify/ajv-compiler`, Ajv 8), twice: once coercing for
 * the parts of a request that arrive as text (query string, path params, headers: `?limit=5` is
 * a number), once exact for JSON bodies, which carry their own types. Coercing bodies would
 * turn `"size": true` into 1, `"size": "5"` or `[5]` into 5 and `"ownerType": ["avatar"]` into
 * `"avatar"`, and a client bug would pass as a valid request.
 *
 * @example
 * Fastify({ schemaController: { compilersFactory: { buildValidator: validatorFactory() } } });
 */
export function validatorFactory(): ValidatorFactory {
  // One pool per app, as Fastify keeps its own: compiled schemas are reused within it.
  const pool = AjvCompiler();
  const factory = (externalSchemas: Record<string, unknown>): FastifySchemaCompiler<unknown> => {
    // The pool's published type says (schema) => validator; at run time it takes the route
    // definition Fastify passes ({ schema, method, url, httpPart }), as its source shows.
    const compile = (coerceTypes: "array" | false) => {
      const compiler = pool(externalSchemas as Parameters<typeof pool>[0], { customOptions: { ...COMMON, coerceTypes } });
      return compiler as unknown as FastifySchemaCompiler<unknown>;
    };
    const coercing = compile("array");
    const exact = compile(false);
    return (route) => (route.httpPart === "body" ? exact : coercing)(route);
  };
  return factory as unknown as ValidatorFactory;
}

/**
 * The API contract: TypeBox schemas (JSON Schema) for every request, answer and the error body,
 * and the table of operations. Imports nothing from Node or Fastify, so a browser bundle can
 * take it as it is; `Static<typeof X>` types are exported under the schema's name.
 */
export * from "./error-body.js";
export * from "./links.js";
export * from "./operations.js";
export * from "./presign.js";
export * from "./primitives.js";
export * from "./uploads.js";

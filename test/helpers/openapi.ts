import { Ajv2020 } from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import type { RawResponse } from "./http.js";

/** An OpenAPI 3.1 document, as much of it as the contract checks read. */
export interface OpenApiDocument {
  paths: Record<string, Record<string, OpenApiOperation>>;
}
interface OpenApiOperation {
  operationId?: string;
  responses: Record<string, { description: string; content?: Record<string, { schema: object }> }>;
}

/** One answer of the running server, to be checked against the document. */
export interface Exchange {
  method: string;
  path: string;
  response: RawResponse;
}

/**
 * Checks real answers against the document's own response schemas (JSON Schema 2020-12, as
 * OpenAPI 3.1 says): the path must match a documented path, the status must be documented for
 * that operation, and a JSON body must validate. Returns one line per problem.
 */
export function contractProblems(doc: OpenApiDocument, exchanges: readonly Exchange[]): string[] {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats.default(ajv);
  // Literal paths before templated ones: /v1/uploads/attach is not /v1/uploads/{id}.
  const templates = Object.keys(doc.paths)
    .map((template) => ({ template, params: (template.match(/\{/g) ?? []).length, regex: toRegex(template) }))
    .sort((a, b) => a.params - b.params);
  const problems: string[] = [];
  for (const { method, path, response } of exchanges) {
    const bare = path.split("?")[0] ?? path;
    const template = templates.find((t) => t.regex.test(bare))?.template;
    const where = `${method} ${bare} → ${response.status}`;
    const operation = template === undefined ? undefined : doc.paths[template]?.[method.toLowerCase()];
    if (operation === undefined) {
      problems.push(`${where}: no such operation in the document`);
      continue;
    }
    const documented = operation.responses[String(response.status)];
    if (documented === undefined) {
      problems.push(`${where}: status not documented for ${operation.operationId ?? template}`);
      continue;
    }
    const type = String(response.headers["content-type"] ?? "");
    const schema = documented.content?.["application/json"]?.schema;
    if (!type.startsWith("application/json") || schema === undefined) continue;
    const validate = ajv.compile(schema);
    if (!validate(response.json())) {
      problems.push(`${where}: body does not match the documented schema: ${ajv.errorsText(validate.errors)}; body ${response.body.toString().slice(0, 300)}`);
    }
  }
  return problems;
}

function toRegex(template: string): RegExp {
  const pattern = template
    .split(/(\{[^}]+\})/)
    .map((part) => (part.startsWith("{") ? (part === "{key}" ? ".+" : "[^/]+") : part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")))
    .join("");
  return new RegExp(`^${pattern}$`);
}

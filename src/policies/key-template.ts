import { createHash } from "node:crypto";
import { STAGING_PREFIX } from "./staging-key.js";
import { StowageError } from "../errors.js";

export interface KeyVariables {
  userId: string;
  ownerId?: string | undefined;
  id: string;
  ext: string;
  now: Date;
}

const VARIABLE = /\{([a-zA-Z]+)\}/g;
const KNOWN = new Set(["userId", "ownerId", "id", "ext", "yyyy", "mm", "dd"]);
const SAFE_SEGMENT = /^[A-Za-z0-9_@-][A-Za-z0-9_.@-]{0,127}$/;

/** Problems with a template, for config validation (empty when it is usable). */
export function templateProblems(template: string): string[] {
  const problems: string[] = [];
  for (const [, name] of template.matchAll(VARIABLE)) {
    if (name !== undefined && !KNOWN.has(name)) problems.push(`unknown variable {${name}}`);
  }
  if (!template.includes("{id}")) problems.push("must contain {id} so every key is unique");
  if (template.startsWith("/") || template.split("/").some((s) => s === ".." || s === ".")) {
    problems.push("must be a relative path without '.' or '..' segments");
  } else if (template.startsWith(".")) {
    // Keys starting with a dot are Stowage's own (image derivatives under `.derivatives/`, storage
    // probes): no variable renders a leading dot, so refusing one here keeps every template clear of them.
    problems.push("may not start with '.': such keys are Stowage's own (derivatives, probes)");
  }
  if (template.startsWith(STAGING_PREFIX)) problems.push(`may not start with '${STAGING_PREFIX}': that prefix holds uploads in flight`);
  return problems;
}

export function templateNeedsOwnerId(template: string): boolean {
  return template.includes("{ownerId}");
}

/**
 * A caller-influenced value (a JWT subject, an owner id) as one safe key segment. Values that
 * are already plain (letters, digits, `_.@-`, not starting with a dot) are kept readable;
 * anything else (slashes, `..`, unicode, control characters) is replaced by a stable hash,
 * so no input can change the shape of a key.
 */
export function safeSegment(value: string): string {
  if (SAFE_SEGMENT.test(value)) return value;
  return `h-${createHash("sha256").update(value).digest("hex").slice(0, 32)}`;
}

/** Renders a policy key template; the result never contains a caller-controlled path. */
export function renderKey(template: string, vars: KeyVariables): string {
  const pad = (n: number) => String(n).padStart(2, "0");
  return template.replace(VARIABLE, (_match, name: string) => {
    switch (name) {
      case "userId":
        return safeSegment(vars.userId);
      case "ownerId":
        if (vars.ownerId === undefined)
          throw new StowageError("OWNER_ID_REQUIRED", "This owner type needs an ownerId.");
        return safeSegment(vars.ownerId);
      case "id":
        return vars.id;
      case "ext":
        return vars.ext;
      case "yyyy":
        return String(vars.now.getUTCFullYear());
      case "mm":
        return pad(vars.now.getUTCMonth() + 1);
      case "dd":
        return pad(vars.now.getUTCDate());
      default:
        throw new Error(`unknown key template variable {${name}}`);
    }
  });
}

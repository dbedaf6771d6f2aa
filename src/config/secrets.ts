import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";

/**
 * What a command does with one local secret (the JWT secret, the URL signing secret). Only
 * `serve` may create them: a `token` that made its own would mint tokens the server refuses.
 * - `generate`: the environment, else the file under the data directory, created on first use;
 * - `read`: the environment, else that file, which must already exist;
 * - `none`: the command signs nothing: neither the environment nor a file is read, and a random
 *   key that lives only as long as the process stands in (whatever it signed would be refused).
 */
export type SecretUse = "generate" | "read" | "none";

/** Each local secret's {@link SecretUse} for one command. */
export interface SecretUses {
  jwt: SecretUse;
  signing: SecretUse;
}

export const SERVE_SECRETS: SecretUses = { jwt: "generate", signing: "generate" };
export const TOKEN_SECRETS: SecretUses = { jwt: "read", signing: "none" };
export const NO_SECRETS: SecretUses = { jwt: "none", signing: "none" };

export const MIN_SECRET_LENGTH = 32;

export interface SecretRequest {
  /** The environment variable that sets it, e.g. `STOWAGE_JWT_SECRET`. */
  name: string;
  value: string | undefined;
  /** The file under the data directory it is kept in when the environment does not set it. */
  path: string;
  use: SecretUse;
  production: boolean;
}

export interface ResolvedSecret {
  /** Empty when there is a `problem`. */
  value: string;
  problem?: string;
  /** The file the value was read from or generated into; absent when the environment set it. */
  file?: string;
  /** Set when this call generated the file. */
  created?: boolean;
}

/** The secret a command uses, from the environment or the data directory, as `use` allows. */
export function resolveSecret(request: SecretRequest): ResolvedSecret {
  const { name, value, path, use, production } = request;
  if (use === "none") return { value: randomSecret() };
  if (value !== undefined && value !== "") {
    if (value.length < MIN_SECRET_LENGTH) return { value: "", problem: `${name} must be at least ${MIN_SECRET_LENGTH} characters` };
    return { value };
  }
  if (production) return { value: "", problem: `${name} is required when NODE_ENV=production` };
  const existing = readFileSecret(path);
  if (existing !== undefined) {
    if (existing.length < MIN_SECRET_LENGTH)
      return { value: "", problem: `${path} holds a secret shorter than ${MIN_SECRET_LENGTH} characters (delete it, and \`stowage serve\` makes a new one)` };
    return { value: existing, file: path };
  }
  if (use === "generate") return { ...createFileSecret(path), file: path };
  return {
    value: "",
    problem:
      `no ${name} is set and there is no secret at ${path}: set STOWAGE_DATA_DIR to the data directory ` +
      `\`stowage serve\` uses (it generates the secret there on its first start), or set ${name} to the server's secret`,
  };
}

function randomSecret(): string {
  return randomBytes(32).toString("base64url");
}

/** What `path` holds (trimmed), or undefined when there is no such file. */
function readFileSecret(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8").trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
}

/**
 * Creates a random secret in `path` (mode 0600). Only for the embedded default, so that
 * `npm start` works with nothing set up; production passes secrets through the environment.
 */
function createFileSecret(path: string): { value: string; created: boolean } {
  // 0700: the data directory holds the secrets, the database and every object.
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const value = randomSecret();
  try {
    // `wx`: if another `serve` starting at the same moment won the race, use its secret.
    writeFileSync(path, `${value}\n`, { mode: 0o600, flag: "wx" });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    return { value: readFileSync(path, "utf8").trim(), created: false };
  }
  return { value, created: true };
}

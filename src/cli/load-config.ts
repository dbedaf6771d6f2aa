import type { Env } from "../config/load.js";
import type { Config } from "../config/schema.js";
import type { SecretUses } from "../config/secrets.js";

/**
 * The config, loaded when a command runs rather than when the CLI starts: its schema and checks
 * pull in TypeBox (~700 modules) and more, which `stowage upload` and `--help` never need. So do
 * the commands' own modules, each imported by its action.
 */
export async function configFor(env: Env, secrets?: SecretUses): Promise<Config> {
  const { loadConfig } = await import("../config/load.js");
  return loadConfig(env, undefined, secrets);
}

import { join } from "node:path";
import type { Config } from "../config/schema.js";
import { packageRoot } from "../package-root.js";

/** The user the printed ways in (this command, the upload page's sign-in link) are for. */
export const TRY_IT_USER = "alice";

/**
 * The command `serve` prints for getting a token, which must work as printed: `npm run` runs
 * in the project root, so a data directory other than the one `token` would find there by
 * default is named; so are the issuer and audience the server demands; and when the server
 * itself does not run in the project root (then the reader is likely elsewhere too) npm is
 * pointed at it with `--prefix`. A secret from the environment cannot be printed: a comment on
 * the line then says it is needed.
 */
export function tokenHint(
  config: Pick<Config, "dataDir" | "jwt" | "jwtSecretFile">,
  where: { projectRoot?: string; cwd: string },
): string {
  const root = where.projectRoot ?? packageRoot();
  const env: string[] = [];
  if (config.jwtSecretFile !== undefined && config.dataDir !== join(root, ".stowage-data"))
    env.push(`STOWAGE_DATA_DIR=${shellQuote(config.dataDir)}`);
  if (config.jwt.issuer !== undefined) env.push(`STOWAGE_JWT_ISSUER=${shellQuote(config.jwt.issuer)}`);
  if (config.jwt.audience !== undefined) env.push(`STOWAGE_JWT_AUDIENCE=${shellQuote(config.jwt.audience)}`);
  const npm = where.cwd === root ? "npm" : `npm --prefix ${shellQuote(root)}`;
  const command = `TOKEN=$(${[...env, npm].join(" ")} run -s stowage -- token --user ${TRY_IT_USER})`;
  // A shell comment, so the line still runs as printed once that variable is set.
  return config.jwtSecretFile === undefined ? `${command}   # needs this server's STOWAGE_JWT_SECRET` : command;
}

/** `value` as one word for a POSIX shell. */
export function shellQuote(value: string): string {
  return /^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replaceAll("'", "'\\''")}'`;
}

import { buildProgram } from "./cli/program.js";
import { ConfigError } from "./errors.js";

// The only place that reads the process environment.
buildProgram(process.env)
  .parseAsync(process.argv)
  .catch((error: unknown) => {
    // Config and usage problems are the user's to fix: their message, no stack.
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`stowage: ${message}\n`);
    if (!(error instanceof ConfigError) && process.env.STOWAGE_DEBUG) console.error(error);
    process.exitCode = 1;
  });

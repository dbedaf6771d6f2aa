import { buildProgram } from "./cli/program.js";
import { ConfigError } from "./errors.js";
import { logFormatFor, setStdoutLogFormat } from "./logger.js";

// The only place that reads the process environment and sets process-wide state.

// Every file Stowage creates holds someone's media, their metadata or a secret: files 0600,
// folders 0700 (the SQLite WAL and SHM files take the database file's mode). A umask covers
// every writer at once (better-sqlite3 takes no file mode) rather than a mode at each call.
process.umask(0o077);

// The AWS SDK warns on every S3 command under Node < 22 that its releases from 2027 will need
// Node 22. Stowage supports Node 20 and pins the SDK (README, "Node versions"), so that one
// warning is noise; the SDK's own switch turns off just it (set it to `false` to see it again),
// and every other warning still prints.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

setStdoutLogFormat(logFormatFor({ isTTY: process.stdout.isTTY === true, ci: process.env.CI }));

buildProgram(process.env)
  .parseAsync(process.argv)
  .catch((error: unknown) => {
    // Config and usage problems are the user's to fix: their message, no stack.
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`stowage: ${message}\n`);
    if (!(error instanceof ConfigError) && process.env.STOWAGE_DEBUG) console.error(error);
    process.exitCode = 1;
  });

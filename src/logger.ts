import pino, { type Logger } from "pino";

/** How log lines look on stdout: `pretty` for a person at a terminal, `json` for machines. */
export type LogFormat = "pretty" | "json";

/**
 * The format for stdout: pretty lines only when a person is likely reading it (stdout is a
 * terminal and this is not a CI job, whose logs are kept and searched); JSON otherwise, so
 * pipes, files and log shippers always get one parseable object a line.
 */
export function logFormatFor(stdout: { isTTY: boolean; ci: string | undefined }): LogFormat {
  const ci = stdout.ci !== undefined && stdout.ci !== "" && stdout.ci !== "0" && stdout.ci !== "false";
  return stdout.isTTY && !ci ? "pretty" : "json";
}

// Only the entry point knows what stdout is; it says so once, before any logger exists.
let stdoutFormat: LogFormat = "json";

/** Called once by the entry point (`src/main.ts`): the format of loggers that write to stdout. */
export function setStdoutLogFormat(format: LogFormat): void {
  stdoutFormat = format;
}

/**
 * The structured logger. Signed URLs carry their signature in the query string and tokens ride
 * in headers, so request lines log the path only and no headers at all. Without a
 * `destination` it writes to stdout, pretty-printed by pino's own `pino-pretty` transport (in
 * a worker thread) when the entry point chose `pretty`.
 */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  const options: pino.LoggerOptions = {
    level,
    serializers: {
      req: (req: { id?: string; method?: string; url?: string }) => ({
        id: req.id,
        method: req.method,
        path: req.url?.split("?")[0],
      }),
      res: (res: { statusCode?: number }) => ({ statusCode: res.statusCode }),
      err: pino.stdSerializers.err,
    },
    redact: {
      paths: ["*.authorization", "*.headers.authorization", "*.signingSecret", "*.secret", "*.secrets"],
      censor: "[redacted]",
    },
  };
  if (destination !== undefined || stdoutFormat === "json") return pino(options, destination);
  return pino({
    ...options,
    transport: {
      target: "pino-pretty",
      // The worker's own stdout is not a terminal, so colour is asked for rather than detected.
      options: { destination: 1, colorize: true, translateTime: "SYS:HH:MM:ss.l", ignore: "pid,hostname" },
    },
  });
}

import pino, { type Logger } from "pino";

/**
 * The structured logger. Signed URLs carry their signature in the query string and tokens ride
 * in headers, so request lines log the path only and no headers at all.
 */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
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
        paths: ["*.authorization", "*.headers.authorization", "*.signingSecret", "*.secret"],
        censor: "[redacted]",
      },
    },
    destination,
  );
}

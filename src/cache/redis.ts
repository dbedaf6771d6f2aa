import { Redis } from "ioredis";

/**
 * A Redis client that fails fast: with the offline queue off and one attempt per command, a
 * Redis outage costs a request a quick error (and a fallback), never a hang; the client keeps
 * reconnecting in the background.
 */
export function connectRedis(url: string): Redis {
  const redis = new Redis(url, {
    lazyConnect: false,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 1000,
    commandTimeout: 500,
    retryStrategy: (attempt) => Math.min(attempt * 200, 2000),
  });
  // Connection errors are expected while Redis is down; callers see them per command.
  redis.on("error", () => undefined);
  return redis;
}

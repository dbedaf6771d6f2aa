/**
 * The webhook receiver for the events benchmark: a plain `node:http` server that reads and
 * drops the signed POST's body, then answers 204 (no signature check: the receiver's own cost
 * is not what is measured). Keep-alive as Node's defaults have it.
 *
 *   PORT=8093 node --import tsx bench/servers/webhook-receiver.ts
 */
import { createServer } from "node:http";

const port = Number(process.env.PORT ?? 8093);
const server = createServer((req, res) => {
  req.resume();
  req.on("end", () => res.writeHead(204).end());
});
server.listen(port, "127.0.0.1", () => process.stderr.write(`webhook receiver listening on ${port}\n`));
for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => process.exit(0));

/**
 * A reference for the local PUT benchmark: a plain `node:http` server that reads and discards
 * the request body, then answers 200. The same client and loopback as Stowage's PUT with no
 * disk at all: the ceiling that the HTTP path itself puts on any server in Node here.
 *
 *   PORT=8092 node --import tsx bench/servers/sink.ts
 */
import { createServer } from "node:http";

const port = Number(process.env.PORT ?? 8092);
const server = createServer((req, res) => {
  let bytes = 0;
  req.on("data", (chunk: Buffer) => (bytes += chunk.length));
  req.on("end", () => res.writeHead(200, { "content-type": "text/plain" }).end(String(bytes)));
});
server.listen(port, "127.0.0.1", () => process.stderr.write(`sink listening on ${port}\n`));
for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => process.exit(0));

/**
 * Baseline of the local PUT benchmark: `@tus/server` with its `FileStore`, as its README sets it
 * up, receiving uploads under `/files` into `DIRECTORY`. The client creates an upload (POST with
 * `Upload-Length`) and sends every byte in one PATCH.
 *
 *   PORT=8091 DIRECTORY=/tmp/tus node --import tsx bench/servers/tus.ts
 */
import { createServer } from "node:http";
import { FileStore } from "@tus/file-store";
import { Server } from "@tus/server";

const port = Number(process.env.PORT ?? 8091);
const directory = process.env.DIRECTORY ?? "/tmp/tus-bench";
const tus = new Server({ path: "/files", datastore: new FileStore({ directory }), maxSize: 4 * 1024 ** 3 });
const server = createServer((req, res) => void tus.handle(req, res));
server.listen(port, "127.0.0.1", () => process.stderr.write(`tus listening on ${port}\n`));
for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => process.exit(0));

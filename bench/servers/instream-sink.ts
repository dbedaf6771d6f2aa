/**
 * The reference for the scan benchmark: a TCP server that speaks just enough of clamd's INSTREAM
 * to take a scan (reads the command and the length-prefixed chunks, discards them, answers
 * `stream: OK` after the zero-length one) and scans nothing. The same client, framing and
 * loopback as a scan through clamd: what is left is the cost of clamd itself.
 *
 *   PORT=8093 node --import tsx bench/servers/instream-sink.ts
 */
import { createServer } from "node:net";

const COMMAND = "zINSTREAM\0".length;
const port = Number(process.env.PORT ?? 8093);

const server = createServer((socket) => {
  // Bytes still to skip (the command, then each chunk's data), and a partial 4-byte length.
  let skip = COMMAND;
  let header = Buffer.alloc(0);
  socket.on("error", () => {});
  socket.on("data", (data: Buffer) => {
    let at = 0;
    while (at < data.length) {
      if (skip > 0) {
        const n = Math.min(skip, data.length - at);
        skip -= n;
        at += n;
        continue;
      }
      const need = 4 - header.length;
      header = Buffer.concat([header, data.subarray(at, at + need)]);
      at += Math.min(need, data.length - at);
      if (header.length < 4) return;
      skip = header.readUInt32BE(0);
      header = Buffer.alloc(0);
      if (skip === 0) {
        socket.end("stream: OK\0");
        return;
      }
    }
  });
});
server.listen(port, "127.0.0.1", () => process.stderr.write(`instream sink listening on ${port}\n`));
for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => process.exit(0));

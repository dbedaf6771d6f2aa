import { connect, createServer, type Server, type Socket } from "node:net";

/**
 * A TCP relay in front of a server (the S3 server, Stowage) that a test can cut and restore (an
 * outage on demand), and that counts the bytes clients sent through it (what the server received).
 */
export async function relay(
  target: URL,
  port: number,
): Promise<{ port: number; cut(): Promise<void>; restore(): Promise<void>; received(): number }> {
  let server: Server | undefined;
  let received = 0;
  const sockets = new Set<Socket>();
  const open = () =>
    new Promise<void>((resolve) => {
      server = createServer((client) => {
        const upstream = connect(Number(target.port), target.hostname);
        sockets.add(client).add(upstream);
        client.on("data", (chunk: Buffer) => (received += chunk.length));
        client.pipe(upstream).pipe(client);
        const drop = () => {
          client.destroy();
          upstream.destroy();
        };
        client.on("error", drop).on("close", drop);
        upstream.on("error", drop).on("close", drop);
      }).listen(port, "127.0.0.1", resolve);
    });
  await open();
  return {
    port,
    async cut() {
      for (const socket of sockets) socket.destroy();
      sockets.clear();
      await new Promise<void>((resolve) => server?.close(() => resolve()));
    },
    restore: open,
    received: () => received,
  };
}

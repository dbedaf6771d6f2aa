import { connect, createServer, type Server, type Socket } from "node:net";

/** A TCP relay in front of the S3 server that a test can cut and restore: an outage on demand. */
export async function relay(target: URL, port: number): Promise<{ port: number; cut(): Promise<void>; restore(): Promise<void> }> {
  let server: Server | undefined;
  const sockets = new Set<Socket>();
  const open = () =>
    new Promise<void>((resolve) => {
      server = createServer((client) => {
        const upstream = connect(Number(target.port), target.hostname);
        sockets.add(client).add(upstream);
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
  };
}

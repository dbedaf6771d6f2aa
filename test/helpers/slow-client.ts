import { connect, type Socket } from "node:net";

/** What a raw socket got back before it closed. */
export interface SocketOutcome {
  /** The status of the answer, if one arrived. */
  status: number | undefined;
  /** Everything the server sent. */
  text: string;
  /** Milliseconds from the request's start until the server closed the connection. */
  closedAfterMs: number;
}

/**
 * A client that sends a request's head and the first bytes of its body, and then nothing: the
 * socket stays open until the server closes it (`outcome`) or the test calls `destroy()`.
 */
export function slowClient(
  baseUrl: string,
  request: { method: string; path: string; headers: Record<string, string>; body?: Buffer | string; headEnds?: false },
): { socket: Socket; outcome: Promise<SocketOutcome>; send(bytes: Buffer | string): void; received(): string } {
  const url = new URL(baseUrl);
  const socket = connect(Number(url.port), url.hostname);
  const started = Date.now();
  const head = [`${request.method} ${request.path} HTTP/1.1`, `Host: ${url.host}`];
  for (const [name, value] of Object.entries(request.headers)) head.push(`${name}: ${value}`);
  socket.write(`${head.join("\r\n")}\r\n${request.headEnds === false ? "" : "\r\n"}`);
  if (request.body !== undefined) socket.write(request.body);
  let text = "";
  socket.on("data", (chunk: Buffer) => (text += chunk.toString("latin1")));
  const outcome = new Promise<SocketOutcome>((resolve) => {
    socket.on("error", () => undefined);
    socket.on("close", () => {
      const match = /^HTTP\/1\.1 (\d{3})/.exec(text);
      resolve({ status: match === null ? undefined : Number(match[1]), text, closedAfterMs: Date.now() - started });
    });
  });
  return { socket, outcome, send: (bytes) => socket.write(bytes), received: () => text };
}

/** The JSON body of a raw HTTP/1.1 answer (Content-Length framed). */
export function jsonOf(text: string): any {
  const start = text.indexOf("\r\n\r\n");
  return JSON.parse(text.slice(start + 4));
}

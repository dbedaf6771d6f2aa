import { STATUS_CODES } from "node:http";
import type { Socket } from "node:net";
import type { FastifyInstance } from "fastify";
import { type ErrorCode, statusOf } from "../errors.js";
import type { ErrorBody } from "./error-handler.js";

/** Node's HTTP parser errors, as Stowage errors. */
function classify(code: string | undefined): ErrorBody["error"] & { code: ErrorCode } {
  switch (code) {
    case "ERR_HTTP_REQUEST_TIMEOUT":
      return { code: "REQUEST_TIMEOUT", message: "The request took too long to arrive." };
    case "HPE_HEADER_OVERFLOW":
      return { code: "HEADERS_TOO_LARGE", message: "The request line and headers are larger than this server accepts." };
    case "HPE_INVALID_CONTENT_LENGTH":
    case "HPE_UNEXPECTED_CONTENT_LENGTH":
      return { code: "INVALID_REQUEST", message: "The Content-Length header is not valid.", details: { field: "headers.content-length" } };
    case "HPE_INVALID_TRANSFER_ENCODING":
      // Also what a Content-Length beside `Transfer-Encoding: chunked` gets (RFC 9112 §6.3).
      return { code: "INVALID_REQUEST", message: "The Transfer-Encoding header is not valid, or conflicts with Content-Length.", details: { field: "headers.transfer-encoding" } };
    default:
      return { code: "INVALID_REQUEST", message: "The request is not valid HTTP." };
  }
}

/**
 * Fastify's `clientErrorHandler`: requests Node's HTTP parser refuses before Fastify sees them
 * (a malformed or conflicting Content-Length, oversized headers, a request that never finished
 * arriving). There is no request or reply yet, so the answer is written to the socket directly,
 * in the same `{ "error": … }` shape as every other, and the connection is closed: after a
 * parse error the rest of the stream cannot be trusted to start a new request.
 */
export function clientErrorHandler(this: FastifyInstance, error: NodeJS.ErrnoException, socket: Socket): void {
  // A reset connection has no one left to answer.
  if (error.code === "ECONNRESET" || socket.destroyed) return;
  const answer = classify(error.code);
  const status = statusOf(answer.code);
  this.log.debug({ err: error, code: answer.code }, "client error");
  const json = JSON.stringify({ error: answer } satisfies ErrorBody);
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(json)}\r\nConnection: close\r\n\r\n${json}`,
    );
  }
  socket.destroy(error);
}

import { StallError, stallWatch, type Transport } from "./transport.js";

/**
 * `fetch` with a counted stream (Node, and any platform without XHR): the body is streamed with
 * an explicit `Content-Length` (`duplex: "half"`), never chunked (stores refuse chunked
 * uploads of presigned URLs), and progress is what the stream has handed over.
 */
export const fetchTransport: Transport = async (request) => {
  const controller = new AbortController();
  const onAbort = () => controller.abort(request.signal.reason);
  if (request.signal.aborted) throw request.signal.reason;
  request.signal.addEventListener("abort", onAbort, { once: true });
  let stalled = false;
  const watch = stallWatch(request.stallTimeoutMs, () => {
    stalled = true;
    controller.abort(new StallError(`No progress for ${request.stallTimeoutMs / 1000} s.`));
  });
  let loaded = 0;
  const counted = request.body.stream().pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, sink) {
        loaded += chunk.byteLength;
        watch.touch();
        request.onProgress(loaded);
        sink.enqueue(chunk);
      },
    }),
  );
  try {
    const response = await fetch(request.url, {
      method: "PUT",
      headers: withLength(request.headers, request.body.size),
      body: counted,
      signal: controller.signal,
      duplex: "half",
    } as RequestInit);
    watch.touch();
    const text = await response.text();
    return { status: response.status, header: (name) => response.headers.get(name), text };
  } catch (error) {
    if (stalled) throw new StallError(`No progress for ${request.stallTimeoutMs / 1000} s.`, { cause: error });
    if (request.signal.aborted) throw request.signal.reason;
    throw error;
  } finally {
    watch.stop();
    request.signal.removeEventListener("abort", onAbort);
  }
};

/**
 * The signed headers with exactly one `Content-Length`: a signed `Content-Length` next to ours
 * would be joined into `"n, n"`, which Node 24's fetch refuses (Node 20's read the first number).
 */
function withLength(headers: Record<string, string>, size: number): Record<string, string> {
  const kept = Object.entries(headers).filter(([name]) => name.toLowerCase() !== "content-length");
  return { ...Object.fromEntries(kept), "content-length": String(size) };
}

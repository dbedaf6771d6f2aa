import { StallError, stallWatch, type Transport } from "./transport.js";

/**
 * Browsers: `XMLHttpRequest`, the only API with upload progress (fetch has none). The browser
 * sets `Content-Length` from the Blob itself (scripts may not).
 */
export const xhrTransport: Transport = (request) =>
  new Promise((resolve, reject) => {
    const blob = request.body.blob?.();
    if (blob === undefined) return reject(new Error("XMLHttpRequest needs a Blob body."));
    const xhr = new XMLHttpRequest();
    const watch = stallWatch(request.stallTimeoutMs, () => {
      cleanup();
      xhr.abort();
      reject(new StallError(`No progress for ${request.stallTimeoutMs / 1000} s.`));
    });
    const onAbort = () => {
      cleanup();
      xhr.abort();
      reject(request.signal.reason);
    };
    const cleanup = () => {
      watch.stop();
      request.signal.removeEventListener("abort", onAbort);
    };
    if (request.signal.aborted) return onAbort();
    request.signal.addEventListener("abort", onAbort, { once: true });
    xhr.open("PUT", request.url);
    for (const [name, value] of Object.entries(request.headers)) {
      if (name.toLowerCase() !== "content-length") xhr.setRequestHeader(name, value);
    }
    xhr.upload.onprogress = (event) => {
      watch.touch();
      request.onProgress(event.loaded);
    };
    xhr.onload = () => {
      cleanup();
      resolve({ status: xhr.status, header: (name) => xhr.getResponseHeader(name), text: xhr.responseText });
    };
    xhr.onerror = () => {
      cleanup();
      reject(new TypeError("Network error (the connection failed, or CORS refused the request)."));
    };
    xhr.send(blob);
  });

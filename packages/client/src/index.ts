/**
 * `@stowage/client` for browsers: upload `File`s and `Blob`s straight to storage through a
 * Stowage server, with progress, retries, resumable multipart and end-to-end Content-MD5.
 *
 * @example
 * const client = createClient({ baseUrl: "https://uploads.example.com", getToken: () => session.token });
 * const upload = await client.upload(file, { ownerType: "avatar", onProgress: (p) => bar.value = p.loaded / p.total });
 */
import { type ClientOptions, clientFor, type StowageClient } from "./client.js";
import { browserMd5 } from "./md5.js";
import { localStorageResumeStore, memoryResumeStore } from "./resume.js";
import { blobSource, type UploadSource } from "./source.js";
import { fetchTransport } from "./transport-fetch.js";
import { xhrTransport } from "./transport-xhr.js";

export type BrowserInput = Blob | UploadSource;

export function createClient(options: ClientOptions): StowageClient<BrowserInput> {
  return clientFor<BrowserInput>(
    {
      toSource: (input) => Promise.resolve(input instanceof Blob ? blobSource(input) : input),
      transport: typeof XMLHttpRequest === "function" ? xhrTransport : fetchTransport,
      md5: browserMd5,
      resumeStore: () => (typeof localStorage === "object" ? localStorageResumeStore() : memoryResumeStore()),
    },
    options,
  );
}

export type { ClientOptions, StowageClient } from "./client.js";
export type * from "./contract.js";
export { isStowageClientError, StowageClientError, type StowageErrorKind } from "./errors.js";
export { describeUploadError } from "./messages.js";
export { type ResumeEntry, type ResumeStore, localStorageResumeStore, memoryResumeStore } from "./resume.js";
export type { RetryOptions } from "./retry.js";
export { blobSource, type ByteRange, streamSource, type UploadSource } from "./source.js";
export { fetchTransport } from "./transport-fetch.js";
export type { PutRequest, PutResponse, Transport } from "./transport.js";
export type { UploadOptions, UploadProgress, UploadResult } from "./upload.js";

/** A real Uppy 6 Dashboard (inline) uploading through StowageUploader. */
import "@uppy/core/css/style.min.css";
import "@uppy/dashboard/css/style.min.css";
import Uppy, { type Meta } from "@uppy/core";
import Dashboard from "@uppy/dashboard";
import { type StowageBody, StowageUploader } from "../../../packages/client/src/uppy.js";
import { pageConfig, record } from "./page-config.js";

const config = pageConfig();
const uppy = new Uppy<Meta, StowageBody>({ id: "stowage-test" });
uppy.use(Dashboard, { inline: true, target: "#app", height: 460, proudlyDisplayPoweredByUppy: false });
uppy.use(StowageUploader, {
  baseUrl: config.baseUrl,
  getToken: () => config.token,
  ...(config.partConcurrency === undefined ? {} : { partConcurrency: config.partConcurrency }),
  ...(config.retry === undefined ? {} : { retry: config.retry }),
  // Videos go multipart from 5 MiB under the test's config; images are stories (PNG, ≤ 1 MB).
  ownerType: (file) => (file.type.startsWith("video/") ? "video" : "story"),
});

/** The last progress recorded per file (a cancelled file's count must not hold back the next one's). */
const lastProgress = new Map<string, number>();
uppy.on("upload-progress", (file, progress) => {
  // Every 1 MiB is enough to follow a transfer without flooding the record.
  const last = lastProgress.get(file?.id ?? "") ?? 0;
  if (progress.bytesUploaded - last < 1 << 20 && progress.bytesUploaded !== progress.bytesTotal) return;
  lastProgress.set(file?.id ?? "", progress.bytesUploaded);
  record({ type: "upload-progress", name: file?.name, bytesUploaded: progress.bytesUploaded, bytesTotal: progress.bytesTotal });
});
uppy.on("upload-success", (file, response) => {
  record({ type: "upload-success", name: file?.name, body: response.body, uploadURL: response.uploadURL, state: file?.stowage });
});
uppy.on("upload-error", (file, error) => {
  const { code, kind, status } = error as { code?: string; kind?: string; status?: number };
  record({ type: "upload-error", name: file?.name, message: error.message, code, kind, status, state: file?.stowage });
});
uppy.on("upload-retry", (file) => record({ type: "upload-retry", name: file.name, retry: file.stowage?.retry }));
uppy.on("upload-pause", (file, isPaused) => record({ type: "upload-pause", name: file?.name, isPaused }));
uppy.on("file-removed", (file) => record({ type: "file-removed", name: file.name }));
uppy.on("cancel-all", () => record({ type: "cancel-all" }));
uppy.on("complete", (result) => record({ type: "complete", successful: result.successful?.length, failed: result.failed?.length }));

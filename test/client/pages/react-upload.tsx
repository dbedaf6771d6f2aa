/** A React 19 page (in StrictMode, development build) uploading with useUpload. */
import { StrictMode, useEffect, useMemo } from "react";
import { createRoot } from "react-dom/client";
import { createClient, describeUploadError } from "../../../packages/client/src/index.js";
import { useUpload } from "../../../packages/client/src/react.js";
import { pageConfig, record } from "./page-config.js";

const config = pageConfig();
const ownerTypeOf = (file: File) => (file.type.startsWith("video/") ? "video" : "avatar");

function Uploader({ auto }: { auto: File | undefined }) {
  const client = useMemo(() => createClient({ baseUrl: config.baseUrl, getToken: () => config.token }), []);
  const { upload, progress, status, error, result, abort, pause, resume } = useUpload(client);
  const start = (file: File) =>
    upload(file, { ownerType: ownerTypeOf(file) }).then(
      (done) => record({ type: "resolved", id: done.id, resumed: done.resumed }),
      (failed: Error & { code?: string }) => record({ type: "rejected", code: failed.code }),
    );
  // StrictMode runs this effect, its cleanup (which aborts that upload) and the effect again.
  useEffect(() => {
    if (auto !== undefined) void start(auto);
  }, []);
  useEffect(() => record({ type: "state", status, fraction: progress.fraction }), [status, progress.fraction]);
  const percent = Math.round(progress.fraction * 100);
  return (
    <main>
      <h1>Avatar</h1>
      <input type="file" aria-label="File" onChange={(event) => event.target.files?.[0] && void start(event.target.files[0])} />
      <p>
        <progress aria-label="Progress" max={1} value={progress.fraction} />
        {" "}
        <output aria-label="Percent">{`${percent}%`}</output>
        {" "}
        <output aria-label="Status">{status}</output>
      </p>
      <p>
        <button type="button" onClick={pause} disabled={status !== "uploading"}>Pause</button>
        <button type="button" onClick={resume} disabled={status !== "paused"}>Resume</button>
        <button type="button" onClick={abort} disabled={status !== "uploading" && status !== "paused"}>Abort</button>
      </p>
      {result && (
        <p aria-label="Result">
          {`Stored as ${result.id} (${result.size} bytes): `}
          <a href={"url" in result ? result.url : undefined}>{result.filename}</a>
        </p>
      )}
      {error && <p role="alert">{describeUploadError(error)}</p>}
    </main>
  );
}

/** `?auto` starts with a generated PNG from a mount effect, to show StrictMode's double effects do no harm. */
function autoFile(): File | undefined {
  if (!new URLSearchParams(location.search).has("auto")) return undefined;
  const png = Uint8Array.from(atob("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGP4DwAAAQEABRjYTgAAAABJRU5ErkJggg=="), (c) => c.charCodeAt(0));
  return new File([png], "auto.png", { type: "image/png" });
}

const root = document.getElementById("app");
if (root === null) throw new Error("no #app");
createRoot(root).render(<StrictMode><Uploader auto={autoFile()} /></StrictMode>);

import type { Upload } from "../api.js";
import { h } from "../dom.js";
import { formatBytes, typeName } from "../format.js";
import { fileBadge } from "./thumb.js";

export interface UploadsListOptions {
  /** Confirmed and unfinished uploads, newest first. */
  uploads: readonly Upload[];
  /** More exist than are shown. */
  more: boolean;
  /** Where a confirmed upload is served: the confirm answer's URL, or a signed download URL. */
  urlOf(upload: Upload): Promise<string>;
  /** Deletes it; the caller refreshes the list and the quota. Rejects with a message to show. */
  onDelete(upload: Upload): Promise<void>;
  /** Why a link could not be had, or a delete failed, in words. */
  explain(error: unknown, upload: Upload): string;
}

const when = new Intl.DateTimeFormat("en", { dateStyle: "medium", timeStyle: "short" });

function item(upload: Upload, options: UploadsListOptions): HTMLLIElement {
  const confirmed = upload.status === "confirmed";
  const image = confirmed && upload.contentType.startsWith("image/");
  const thumb: HTMLElement = image
    ? h("img", { class: "thumb", alt: `Preview of ${upload.filename}`, decoding: "async" })
    : fileBadge(upload.filename);
  // A format this browser cannot draw (HEIC), or an address it may not read: the tile instead of a broken image.
  thumb.addEventListener("error", () => thumb.replaceWith(fileBadge(upload.filename)), { once: true });
  // Only a confirmed upload is served: an unfinished one has a name, not a link.
  const name = confirmed ? h("a", { class: "name", target: "_blank", rel: "noopener" }, upload.filename) : h("span", { class: "name" }, upload.filename);
  const problem = h("p", { class: "problem", role: "alert", hidden: true });
  const remove = h("button", { type: "button", class: "quiet danger", "aria-label": `Delete ${upload.filename}` }, "Delete");
  const meta = confirmed
    ? `${typeName(upload.contentType)} · ${formatBytes(upload.size)} · ${upload.ownerType} · ${when.format(new Date(upload.confirmedAt ?? upload.createdAt))}`
    : `Unfinished · ${formatBytes(upload.size)} held · ${upload.ownerType} · started ${when.format(new Date(upload.createdAt))}`;
  const element = h(
    "li",
    { class: "file", "data-status": upload.status },
    thumb,
    h(
      "div",
      { class: "file-body" },
      name,
      h("p", { class: "meta" }, meta),
      confirmed ? null : h("p", { class: "hint" }, "Paused or interrupted in this browser? Pick the same file again to resume it. Or delete it to free the space it holds."),
      problem,
    ),
    h("div", { class: "actions" }, remove),
  );
  if (confirmed) {
    options.urlOf(upload).then(
      (url) => {
        if (name instanceof HTMLAnchorElement) name.href = url;
        if (thumb instanceof HTMLImageElement) thumb.src = url;
      },
      (error: unknown) => {
        problem.hidden = false;
        problem.textContent = options.explain(error, upload);
      },
    );
  }
  remove.addEventListener("click", () => {
    remove.disabled = true;
    remove.textContent = "Deleting…";
    options.onDelete(upload).catch((error: unknown) => {
      remove.disabled = false;
      remove.textContent = "Delete";
      problem.hidden = false;
      problem.textContent = options.explain(error, upload);
    });
  });
  return element;
}

/** The caller's files (`list()`): previews of images, a link to each, and a delete button. */
export function uploadsListView(options: UploadsListOptions): HTMLElement {
  const body = options.uploads.length === 0
    ? h("p", { class: "hint" }, "Nothing here yet: the files you upload appear here.")
    : h("ul", { class: "files", "aria-labelledby": "files-title" }, ...options.uploads.map((upload) => item(upload, options)));
  return h(
    "section",
    { class: "card", "aria-labelledby": "files-title" },
    h("h2", { id: "files-title" }, "Your files"),
    body,
    options.more ? h("p", { class: "hint" }, `Showing the ${options.uploads.length} newest.`) : null,
  );
}

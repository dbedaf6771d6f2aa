import type { PolicyView } from "../api.js";
import { h } from "../dom.js";
import { formatBytes, typeName } from "../format.js";
import type { Target } from "../transfer.js";

export interface PickerOptions {
  policies: readonly PolicyView[];
  /**
   * For an upload link's holder: the link's one owner type, so no chooser; no owner id (the link
   * names it when its type needs one: the server requires that when the link is made); and the
   * hint says what the link takes, not who may see the files (they are the link creator's).
   */
  forLink?: boolean | undefined;
  /** Files picked or dropped, for the owner type chosen at that moment. */
  onFiles(files: File[], target: Target, policy: PolicyView): void;
}

/** What the chosen owner type takes, in a sentence under the chooser. */
function describe(policy: PolicyView, forLink: boolean): string {
  const types = policy.allowedTypes.map(typeName).join(", ");
  const who = policy.visibility === "public" ? "anyone with its link can see it" : "only you, through signed links";
  const parts = policy.multipartThresholdBytes === null || policy.multipartThresholdBytes > policy.maxBytes
    ? ""
    : ` Files from ${formatBytes(policy.multipartThresholdBytes)} go in parts: they can be paused, and resume after a reload.`;
  return `Accepts: ${types}. Up to ${formatBytes(policy.maxBytes)} a file${forLink ? "" : `; ${who}`}.${parts}`;
}

/**
 * The way in: an owner-type chooser (from `policies()`), an owner id where the type needs one,
 * and a drop zone holding the file input (several files at once). The input is the real,
 * focusable control; its label is styled as the button, so the keyboard and screen readers use
 * the browser's own file dialog.
 */
export function pickerView(options: PickerOptions): HTMLElement {
  const forLink = options.forLink === true;
  const select = h("select", { id: "owner-type", name: "ownerType" }, ...options.policies.map((p) => h("option", { value: p.ownerType }, p.ownerType)));
  const hint = h("p", { id: "owner-type-hint", class: "hint" });
  const ownerId = h("input", { id: "owner-id", name: "ownerId", type: "text", autocomplete: "off", "aria-describedby": "owner-id-hint" });
  const ownerIdRow = h(
    "div",
    { class: "field" },
    h("label", { for: "owner-id" }, "Owner id"),
    ownerId,
    h("p", { id: "owner-id-hint", class: "hint" }, "The record these files belong to, e.g. a conversation's id."),
  );
  const input = h("input", { id: "files", type: "file", multiple: true, class: "file-input", "aria-describedby": "owner-type-hint" });
  const zone = h(
    "div",
    { class: "drop-zone" },
    h("p", { class: "drop-text" }, "Drop files here, or"),
    h("label", { for: "files", class: "button" }, "Choose files"),
    input,
  );

  const chosen = (): PolicyView | undefined => options.policies.find((p) => p.ownerType === select.value);
  const sync = () => {
    const policy = chosen();
    hint.textContent = policy === undefined ? "" : describe(policy, forLink);
    ownerIdRow.hidden = forLink || policy?.ownerIdRequired !== true;
    input.accept = policy?.allowedTypes.join(",") ?? "";
  };
  const take = (files: FileList | null) => {
    const policy = chosen();
    if (files === null || files.length === 0 || policy === undefined) return;
    const id = ownerId.value.trim();
    options.onFiles([...files], { ownerType: policy.ownerType, ...(!forLink && policy.ownerIdRequired && id !== "" ? { ownerId: id } : {}) }, policy);
  };
  select.addEventListener("change", sync);
  input.addEventListener("change", () => {
    take(input.files);
    // The same file may be picked again (to resume it, or after a refusal).
    input.value = "";
  });
  zone.addEventListener("dragover", (event) => {
    event.preventDefault();
    zone.classList.add("dragging");
  });
  zone.addEventListener("dragleave", () => zone.classList.remove("dragging"));
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    zone.classList.remove("dragging");
    take(event.dataTransfer?.files ?? null);
  });
  sync();
  return h(
    "div",
    { class: "picker" },
    h("div", { class: "field", hidden: forLink && options.policies.length === 1 }, h("label", { for: "owner-type" }, "Upload as"), select),
    hint,
    ownerIdRow,
    zone,
  );
}

import { h } from "../dom.js";
import { formatBytes } from "../format.js";
import type { Transfer, TransferState } from "../transfer.js";
import { fileBadge } from "./thumb.js";

export interface TransferItemOptions {
  /** Unique in the page: ids of the progress bar and its label derive from it. */
  id: string;
  /** Why it failed, in words (`messages.ts`). */
  explain(error: unknown): string;
  /** Whether trying again could help (`messages.ts`). */
  mayRetry(error: unknown): boolean;
  /** Whether the owner type's files are public (the finished upload's link opens) or private (it downloads). */
  visibility: "public" | "private";
  /**
   * Sent through an upload link: once over, the file is "received", with no link to it (the
   * holder gave it away: it is the link creator's, who sees it in their list).
   */
  viaLink: boolean;
  onDismiss(): void;
}

export interface TransferItem {
  element: HTMLLIElement;
  update(state: TransferState): void;
  /** Lets go of the picked file's preview. */
  dispose(): void;
}

const percentOf = (state: TransferState) => (state.total === 0 ? 100 : Math.floor((state.loaded / state.total) * 100));

/**
 * One picked file: a preview (a `blob:` URL of the file itself, for images), its name as the
 * label of a `<progress>`, the percentage and the bytes sent, what is happening in words (a
 * polite live region that changes with the phase or a retry, not with every byte),
 * Pause/Resume and Cancel while it runs; the verdict once it is over.
 */
export function transferItem(transfer: Transfer, options: TransferItemOptions): TransferItem {
  const { file } = transfer;
  const preview = file.type.startsWith("image/") ? URL.createObjectURL(file) : undefined;
  const thumb = preview === undefined ? fileBadge(file.name) : h("img", { class: "thumb", src: preview, alt: "" });
  // A picture the browser cannot draw (HEIC, or not a picture at all: a spoofed file) gets the tile instead.
  thumb.addEventListener("error", () => thumb.replaceWith(fileBadge(file.name)), { once: true });
  const progressId = `${options.id}-progress`;
  const progress = h("progress", { id: progressId, max: Math.max(file.size, 1), value: 0 });
  const percent = h("span", { class: "percent" }, "0 %");
  const status = h("span", { role: "status" });
  const sent = h("span", { class: "sent" });
  const problem = h("p", { class: "problem", role: "alert", hidden: true });
  const name = file.name;
  const pause = h("button", { type: "button", class: "quiet", "aria-label": `Pause ${name}` }, "Pause");
  const resume = h("button", { type: "button", "aria-label": `Resume ${name}` }, "Resume");
  const retry = h("button", { type: "button", "aria-label": `Try ${name} again` }, "Try again");
  const cancel = h("button", { type: "button", class: "quiet", "aria-label": `Cancel ${name}` }, "Cancel");
  const dismiss = h("button", { type: "button", class: "quiet", "aria-label": `Dismiss ${name}` }, "Dismiss");
  pause.addEventListener("click", () => transfer.pause());
  resume.addEventListener("click", () => transfer.resume());
  retry.addEventListener("click", () => transfer.resume());
  cancel.addEventListener("click", () => transfer.cancel());
  dismiss.addEventListener("click", options.onDismiss);
  const link = h("a", { class: "open", target: "_blank", rel: "noopener" }, options.visibility === "public" ? "Open" : "Download");

  const element = h(
    "li",
    { class: "transfer" },
    thumb,
    h(
      "div",
      { class: "transfer-body" },
      h(
        "div",
        { class: "transfer-head" },
        h("label", { class: "name", for: progressId }, name),
        // A link's holder never chose an owner type: its name would say nothing to them.
        h("span", { class: "meta" }, options.viaLink ? formatBytes(file.size) : `${formatBytes(file.size)} · ${transfer.target.ownerType}`),
      ),
      h("div", { class: "progress-row" }, progress, percent),
      h("p", { class: "status" }, status, " ", sent),
      problem,
    ),
    h("div", { class: "actions" }, pause, resume, retry, cancel, dismiss),
  );

  const update = (state: TransferState) => {
    element.dataset.phase = state.phase;
    const over = state.phase === "done" || state.phase === "failed" || state.phase === "cancelled";
    progress.max = Math.max(state.total, 1);
    progress.value = state.loaded;
    percent.textContent = `${percentOf(state)} %`;
    progress.parentElement?.toggleAttribute("hidden", over);
    pause.hidden = state.phase !== "running";
    resume.hidden = state.phase !== "paused";
    retry.hidden = state.phase !== "failed" || !options.mayRetry(state.error);
    cancel.hidden = over;
    dismiss.hidden = !over;
    const why = state.phase === "failed" ? options.explain(state.error) : "";
    problem.hidden = why === "";
    if (problem.textContent !== why) problem.textContent = why;
    const notes = [
      state.resumed ? "resumed from the parts storage already held" : undefined,
      state.retries > 0 ? `${state.retries} ${state.retries === 1 ? "retry" : "retries"} after network trouble` : undefined,
    ].filter((note) => note !== undefined);
    // Written only when it changes: each change of a live region is read out.
    const say = (text: string) => {
      if (status.textContent !== text) status.textContent = text;
    };
    sent.textContent = state.phase === "running" && state.loaded > 0 ? `${formatBytes(state.loaded)} of ${formatBytes(state.total)}` : "";
    switch (state.phase) {
      case "running":
        say(state.retrying ?? (state.loaded === 0 ? "Preparing…" : "Uploading…"));
        break;
      case "paused":
        say(transfer.multipart ? "Paused. Resume continues from the parts storage already holds." : "Paused. Resume sends the file again.");
        break;
      case "done":
        if (options.viaLink) {
          const noted = notes.length === 0 ? "" : ` (${notes.join("; ")})`;
          say(state.result?.status === "scanning"
            ? `Received${noted}; being scanned for viruses before whoever sent you this link can open it.`
            : `Received${noted}: whoever sent you this link has it now.`);
          break;
        }
        if (state.result !== undefined && "url" in state.result) link.href = state.result.url;
        if (state.result?.status === "scanning") {
          status.replaceChildren("Uploaded; being scanned for viruses. It appears below once found clean.");
          break;
        }
        status.replaceChildren(`Uploaded${notes.length === 0 ? "" : ` (${notes.join("; ")})`}. `, link);
        break;
      case "failed":
        say("Not uploaded.");
        break;
      case "cancelled":
        say("Cancelled: nothing was kept.");
        break;
    }
  };
  update(transfer.state);
  return { element, update, dispose: () => preview !== undefined && URL.revokeObjectURL(preview) };
}

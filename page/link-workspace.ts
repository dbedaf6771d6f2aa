import { isLinkClosed, type PolicyView, type Stowage } from "./api.js";
import { h } from "./dom.js";
import { explainLink } from "./messages.js";
import type { Target } from "./transfer.js";
import { transferList } from "./transfers.js";
import { pickerView } from "./views/picker.js";

export interface LinkWorkspaceOptions {
  /** Connected with the link's token (`connect({ link: true })`). */
  client: Stowage;
  /** `policies()` as the link answers it: its one owner type, with the link's narrowed types and size. */
  policies: PolicyView[];
  /** The page's origin (named in the one fix a deployment may need: `storage cors`). */
  origin: string;
}

/**
 * What an upload link's holder sees: a line saying what this is, the picker for the link's owner
 * type (what it takes and up to what size), and this visit's transfers. Nothing of the
 * creator's: no list, no quota, no account; the server would refuse the link those anyway. A
 * transfer refused for the link itself (expired, revoked, used up, no longer valid) puts the
 * reason in the picker's place; the transfers stay, each with its verdict.
 */
export function linkWorkspace(options: LinkWorkspaceOptions): HTMLElement[] {
  const { client, policies } = options;
  const transfers = transferList({
    client,
    origin: options.origin,
    viaLink: true,
    onUnderway: () => {},
    onSettled: (state) => {
      if (state.phase === "failed" && isLinkClosed(state.error)) close(state.error);
    },
  });
  const onFiles = (files: File[], target: Target, policy: PolicyView) => files.forEach((file) => transfers.add(file, target, policy));
  let picker: HTMLElement = policies.length === 0
    ? h("p", { class: "problem", role: "alert" }, "This upload link takes no files at the moment. Ask whoever sent it to you for a new one.")
    : pickerView({ policies, forLink: true, onFiles });
  let closed = policies.length === 0;
  /** The link itself was refused: the picker gives way to why (once; each transfer keeps its own verdict). */
  function close(error: unknown): void {
    if (closed) return;
    closed = true;
    const notice = h("p", { class: "problem", role: "alert" }, explainLink(error));
    picker.replaceWith(notice);
    picker = notice;
  }
  return [
    h(
      "section",
      { class: "card", "aria-labelledby": "page-title" },
      h("h1", { id: "page-title", tabindex: -1 }, "Send files"),
      h("p", { class: "link-intro" }, "This is an upload link: the files you send here go to whoever sent it to you. You need no account."),
      picker,
      transfers.element,
    ),
  ];
}

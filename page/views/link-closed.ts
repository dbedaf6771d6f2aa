import { h } from "../dom.js";
import { explainLink } from "../messages.js";

/** An upload link refused as the page opened: why, and who can help. No "Try again": it would not help. */
export function linkClosedView(error: unknown): HTMLElement {
  return h(
    "section",
    { class: "card", "aria-labelledby": "link-closed-title" },
    h("h1", { id: "link-closed-title", tabindex: -1 }, "This upload link cannot be used"),
    h("p", { class: "problem", role: "alert" }, explainLink(error)),
  );
}

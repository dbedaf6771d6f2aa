import { h } from "../dom.js";

/** Something kept the page from loading (the server is down, an unexpected answer), and a way to try again. */
export function problemView(message: string, onRetry: () => void): HTMLElement {
  const retry = h("button", { type: "button" }, "Try again");
  retry.addEventListener("click", onRetry);
  return h(
    "section",
    { class: "card", "aria-labelledby": "problem-title" },
    h("h1", { id: "problem-title", tabindex: -1 }, "Something went wrong"),
    h("p", { class: "problem", role: "alert" }, message),
    retry,
  );
}

import { h } from "../dom.js";

export interface SignInOptions {
  /** Why the reader is here again (a refused or expired token), announced to screen readers. */
  problem?: string | undefined;
  onToken(token: string): void;
}

/** Signing in by pasting a bearer token (the link `npm start` prints does it without this). */
export function signInView(options: SignInOptions): HTMLElement {
  const field = h("textarea", {
    id: "token",
    name: "token",
    rows: 4,
    required: true,
    autocomplete: "off",
    autocapitalize: "off",
    spellcheck: "false",
    "aria-describedby": "token-help",
  });
  const form = h(
    "form",
    { class: "stack", "aria-labelledby": "sign-in-title" },
    h("label", { for: "token" }, "Bearer token"),
    field,
    h(
      "p",
      { id: "token-help", class: "hint" },
      "A JWT this server accepts. Locally: ",
      h("code", {}, "npm run -s stowage -- token --user alice"),
      ", or open the link ",
      h("code", {}, "npm start"),
      " prints.",
    ),
    h("div", {}, h("button", { type: "submit" }, "Sign in")),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const token = field.value.trim();
    if (token !== "") options.onToken(token);
  });
  return h(
    "section",
    { class: "card", "aria-labelledby": "sign-in-title" },
    h("h1", { id: "sign-in-title", tabindex: -1 }, "Sign in"),
    options.problem === undefined ? null : h("p", { class: "problem", role: "alert" }, options.problem),
    form,
  );
}

import { h } from "../dom.js";

/** Who is signed in (as the token says), and signing out. */
export function accountView(user: string | undefined, onSignOut: () => void): HTMLElement {
  const signOut = h("button", { type: "button", class: "quiet" }, "Sign out");
  signOut.addEventListener("click", onSignOut);
  return h("div", { class: "account" }, user === undefined ? null : h("span", {}, "Signed in as ", h("strong", {}, user)), signOut);
}

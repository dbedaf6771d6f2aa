import type { PolicyList, PolicyView } from "../../src/api/index.js";
import { h } from "../dom.js";
import { formatBytes } from "../format.js";

function row(policy: PolicyView): HTMLTableRowElement {
  return h(
    "tr",
    {},
    h("th", { scope: "row" }, h("code", {}, policy.ownerType)),
    h("td", {}, h("ul", { class: "types" }, ...policy.allowedTypes.map((type) => h("li", {}, h("code", {}, type))))),
    h("td", { class: "number" }, formatBytes(policy.maxBytes)),
    h("td", {}, policy.visibility),
  );
}

function table(list: PolicyList): HTMLTableElement {
  const head = h(
    "tr",
    {},
    h("th", { scope: "col" }, "Owner type"),
    h("th", { scope: "col" }, "Allowed types"),
    h("th", { scope: "col", class: "number" }, "Max size"),
    h("th", { scope: "col" }, "Visibility"),
  );
  return h("table", { "aria-labelledby": "policies-title" }, h("thead", {}, head), h("tbody", {}, ...list.items.map(row)));
}

/** The owner types the caller may upload to, with what each accepts: checked here before any byte moves. */
export function policiesView(list: PolicyList): HTMLElement {
  return h(
    "section",
    { class: "card", "aria-labelledby": "policies-title" },
    h("h2", { id: "policies-title" }, "What you can upload"),
    list.items.length === 0 ? h("p", {}, "No owner type is open to your roles.") : table(list),
  );
}

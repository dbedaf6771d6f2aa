/** What an element may hold: nodes, text, and nothing (left out, for conditional children). */
export type Child = Node | string | null | undefined | false;

/** Attribute values: `true` sets an empty attribute, `false` and `undefined` leave it out. */
export type Attributes = Record<string, string | number | boolean | undefined>;

/**
 * Creates an element with attributes and children. Text goes in as text nodes, never parsed as
 * HTML: whatever the API answers (owner types, MIME types, messages) cannot become markup.
 *
 * @example
 * h("p", { class: "note" }, "Signed in as ", h("strong", {}, user));
 */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: Attributes = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === false) continue;
    element.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child);
  }
  return element;
}

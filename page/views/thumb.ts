import { h } from "../dom.js";

/** A file that has no picture: its extension on a tile (`PDF`, `MP4`), hidden from screen readers (the name says it). */
export function fileBadge(filename: string): HTMLElement {
  const ext = /\.([a-z0-9]{1,5})$/i.exec(filename)?.[1]?.toUpperCase() ?? "FILE";
  return h("span", { class: "thumb badge", "aria-hidden": "true" }, ext);
}

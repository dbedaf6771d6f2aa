import type { QuotaAnswer } from "../../src/api/index.js";
import { h } from "../dom.js";
import { formatBytes } from "../format.js";

interface Usage {
  usedBytes: number;
  reservedBytes: number;
  limitBytes: number;
}

/** One meter: used and reserved bytes against the limit, with the figures in words beside it. */
function usageMeter(id: string, label: string, usage: Usage): HTMLElement {
  const taken = usage.usedBytes + usage.reservedBytes;
  const words = [
    `${formatBytes(usage.usedBytes)} of ${formatBytes(usage.limitBytes)} used`,
    usage.reservedBytes > 0 ? `${formatBytes(usage.reservedBytes)} held by uploads in progress` : undefined,
    `${formatBytes(Math.max(usage.limitBytes - taken, 0))} free`,
  ].filter((part) => part !== undefined);
  return h(
    "div",
    { class: "usage" },
    h("label", { for: id }, label),
    h("meter", {
      id,
      min: 0,
      max: Math.max(usage.limitBytes, 1),
      value: taken,
      high: usage.limitBytes * 0.9,
      optimum: 0,
      "aria-describedby": `${id}-text`,
    }),
    h("p", { id: `${id}-text`, class: "figures" }, words.join(" · ")),
  );
}

/** The caller's quota, and their organization's when the token names one. */
export function quotaView(quota: QuotaAnswer): HTMLElement {
  const pending = quota.pendingUploads === 1 ? "1 upload in progress" : `${quota.pendingUploads} uploads in progress`;
  return h(
    "section",
    { class: "card", "aria-labelledby": "quota-title" },
    h("h2", { id: "quota-title" }, "Quota"),
    usageMeter("quota-user", "Your storage", quota),
    quota.org === undefined ? null : usageMeter("quota-org", `Organization ${quota.org.id}`, quota.org),
    h("p", { class: "hint" }, pending),
  );
}

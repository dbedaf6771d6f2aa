import type { PolicyView, Stowage } from "./api.js";
import { h } from "./dom.js";
import { explain, mayRetry } from "./messages.js";
import { type Target, Transfer, type TransferState } from "./transfer.js";
import { transferItem } from "./views/transfer-item.js";

export interface TransferListOptions {
  client: Stowage;
  /** The page's origin (named in the one fix a deployment may need: `storage cors`). */
  origin: string;
  /** Sent through an upload link: worded for its holder, and a finished file is "received", with no link to it. */
  viaLink: boolean;
  /** The presign reserved the file's size (bytes are moving). */
  onUnderway(): void;
  /** A transfer stopped (any phase but `running`), for a file meant for `policy`. */
  onSettled(state: TransferState, policy: PolicyView): void;
}

export interface TransferList {
  /** The list of this visit's transfers; hidden while empty. */
  element: HTMLUListElement;
  /** Starts uploading `file` and shows it at the end of the list. */
  add(file: File, target: Target, policy: PolicyView): void;
  /** The transfers shown (until dismissed). */
  shown(): readonly Transfer[];
}

/** This visit's transfers, each with its own progress, controls and verdict (`views/transfer-item.ts`). */
export function transferList(options: TransferListOptions): TransferList {
  const { client, origin, viaLink } = options;
  const shown = new Set<Transfer>();
  const element = h("ul", { class: "transfers", "aria-label": "Files being uploaded", hidden: true });
  let count = 0;

  const add = (file: File, target: Target, policy: PolicyView) => {
    count += 1;
    const threshold = policy.multipartThresholdBytes;
    const view: { item?: ReturnType<typeof transferItem> } = {};
    const transfer = new Transfer({
      client,
      file,
      target,
      multipart: threshold !== null && file.size >= threshold,
      onChange: (state: TransferState) => view.item?.update(state),
      onUnderway: options.onUnderway,
      onSettled: (state: TransferState) => options.onSettled(state, policy),
    });
    const item = transferItem(transfer, {
      id: `transfer-${count}`,
      visibility: policy.visibility,
      viaLink,
      explain: (error) => explain(error, { name: file.name, size: file.size, ownerType: target.ownerType, origin, viaLink }),
      mayRetry,
      onDismiss: () => {
        shown.delete(transfer);
        item.dispose();
        item.element.remove();
        element.hidden = element.childElementCount === 0;
      },
    });
    view.item = item;
    element.append(item.element);
    element.hidden = false;
    shown.add(transfer);
    transfer.start();
  };
  return { element, add, shown: () => [...shown] };
}

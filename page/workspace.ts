import { isSignedOut, type PolicyView, type QuotaAnswer, type Stowage, type Upload } from "./api.js";
import { h } from "./dom.js";
import { explain } from "./messages.js";
import { transferList } from "./transfers.js";
import { pickerView } from "./views/picker.js";
import { policiesView } from "./views/policies.js";
import { quotaView } from "./views/quota.js";
import { uploadsListView } from "./views/uploads-list.js";

/** The newest uploads the list shows. */
const LIST_SIZE = 50;
/** A signed URL is asked for again this long before it expires. */
const URL_MARGIN_MS = 60_000;

export interface Listing {
  uploads: Upload[];
  more: boolean;
}

/** The caller's confirmed and unfinished uploads, newest first (rejected and expired ones hold nothing). */
export async function loadListing(client: Stowage): Promise<Listing> {
  const uploads: Upload[] = [];
  for await (const upload of client.list({ pageSize: LIST_SIZE })) {
    if (upload.status !== "confirmed" && upload.status !== "pending") continue;
    if (uploads.length === LIST_SIZE) return { uploads, more: true };
    uploads.push(upload);
  }
  return { uploads, more: false };
}

export interface WorkspaceOptions {
  client: Stowage;
  policies: PolicyView[];
  quota: QuotaAnswer;
  listing: Listing;
  /** The page's origin (named in the one fix a deployment may need: `storage cors`). */
  origin: string;
  /** The token stopped working: back to the sign-in form. */
  onSignedOut(message: string): void;
}

/**
 * The signed-in page: the quota, the picker with this visit's transfers, the caller's files and
 * the owner types. Every settled transfer and every delete asks for the quota and the list again
 * (the latest answer wins), so the meter and the list always show what the server holds.
 */
export function workspace(options: WorkspaceOptions): HTMLElement[] {
  const { client, policies } = options;
  const urls = new Map<string, { url: string; expiresAt: number }>();
  let latest = 0;

  const urlOf = async (upload: Upload): Promise<string> => {
    const known = urls.get(upload.id);
    if (known !== undefined && known.expiresAt - URL_MARGIN_MS > Date.now()) return known.url;
    const answer = await client.downloadUrl(upload.id);
    urls.set(upload.id, { url: answer.url, expiresAt: Date.parse(answer.expiresAt) });
    return answer.url;
  };
  const subject = (upload: { filename: string; size: number; ownerType: string }) =>
    ({ name: upload.filename, size: upload.size, ownerType: upload.ownerType, origin: options.origin });

  const transfers = transferList({
    client,
    origin: options.origin,
    viaLink: false,
    // The presign reserved the file's size: the meter shows it held.
    onUnderway: () => void refresh(),
    onSettled: (state, policy) => {
      if (state.phase === "failed" && isSignedOut(state.error)) {
        options.onSignedOut(`Your session ended: ${state.error.message} Sign in again.`);
        return;
      }
      if (state.phase === "done" && state.result !== undefined && "url" in state.result && policy.visibility === "public") {
        // A public upload's address does not expire.
        urls.set(state.result.id, { url: state.result.url, expiresAt: Number.POSITIVE_INFINITY });
      }
      void refresh();
    },
  });
  let quotaSection = quotaView(options.quota);
  let filesSection = filesView(options.listing);

  function filesView(listing: Listing): HTMLElement {
    // A pending upload that a transfer of this page is still sending (or holds paused) is shown there, not here.
    const mine = (u: Upload) =>
      transfers.shown().some((t) => (t.state.phase === "running" || t.state.phase === "paused")
        && t.file.name === u.filename && t.file.size === u.size && t.target.ownerType === u.ownerType);
    return uploadsListView({
      uploads: listing.uploads.filter((u) => u.status === "confirmed" || !mine(u)),
      more: listing.more,
      urlOf,
      explain: (error, upload) => explain(error, subject(upload)),
      onDelete: async (upload) => {
        await client.delete(upload.id);
        urls.delete(upload.id);
        await refresh();
      },
    });
  }

  async function refresh(): Promise<void> {
    const ticket = ++latest;
    try {
      const [quota, listing] = await Promise.all([client.quota(), loadListing(client)]);
      if (ticket !== latest) return;
      const nextQuota = quotaView(quota);
      const nextFiles = filesView(listing);
      quotaSection.replaceWith(nextQuota);
      filesSection.replaceWith(nextFiles);
      quotaSection = nextQuota;
      filesSection = nextFiles;
    } catch (error) {
      if (isSignedOut(error)) options.onSignedOut(`Your session ended: ${error.message} Sign in again.`);
      // Otherwise the figures shown stay until the next change; the transfer says what failed.
    }
  }

  const upload = h(
    "section",
    { class: "card", "aria-labelledby": "upload-title" },
    h("h2", { id: "upload-title" }, "Upload files"),
    policies.length === 0
      ? h("p", {}, "No owner type is open to your roles.")
      : pickerView({ policies, onFiles: (files, target, policy) => files.forEach((file) => transfers.add(file, target, policy)) }),
    transfers.element,
  );
  return [
    h("h1", { id: "page-title", tabindex: -1 }, "Your uploads"),
    quotaSection,
    upload,
    filesSection,
    policiesView({ items: policies }),
  ];
}

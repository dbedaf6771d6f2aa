import { isStowageClientError } from "./api.js";
import { aTypeName, formatBytes, typeName } from "./format.js";

/** What the sentence is about: the file, and the owner type it was meant for. */
export interface Subject {
  name: string;
  size: number;
  ownerType: string;
  /** The page's origin, for the one fix an administrator must make (`storage cors`). */
  origin: string;
  /**
   * Sent through an upload link: its holder hears what the link takes, not the owner type's
   * name, and never the creator's quota figures (only that there is no room).
   */
  viaLink?: boolean | undefined;
}

const num = (details: Record<string, unknown> | undefined, key: string): number | undefined => {
  const value = details?.[key];
  return typeof value === "number" ? value : undefined;
};
const str = (details: Record<string, unknown> | undefined, key: string): string | undefined => {
  const value = details?.[key];
  return typeof value === "string" ? value : undefined;
};

/**
 * Why an upload did not happen, in words a person understands, with the figures the server or
 * the SDK sent along (`details`). Codes are the server's (the SDK refuses with the same codes
 * before any byte moves) plus the SDK's own (`ETAG_NOT_EXPOSED`, network failures).
 */
export function explain(error: unknown, subject: Subject): string {
  const { name, ownerType, viaLink = false } = subject;
  const taker = viaLink ? "this link" : ownerType;
  if (!isStowageClientError(error)) return `${name} could not be uploaded: ${error instanceof Error ? error.message : String(error)}`;
  const { details } = error;
  switch (error.code) {
    case "FILE_TOO_LARGE": {
      const max = num(details, "maxBytes");
      const size = num(details, "size") ?? subject.size;
      if (max === undefined) return `${name} is too large for ${taker}.`;
      return viaLink
        ? `${name} is ${formatBytes(size)}, but this link takes files of at most ${formatBytes(max)}.`
        : `${name} is ${formatBytes(size)}, but ${ownerType} files may be at most ${formatBytes(max)}.`;
    }
    case "CONTENT_TYPE_NOT_ALLOWED": {
      const type = str(details, "contentType");
      const allowed = Array.isArray(details?.allowedTypes) ? details.allowedTypes.map(String) : [];
      const list = allowed.map((t) => (typeName(t) === t ? t : `${typeName(t)} (${t})`)).join(", ");
      const what = type === undefined ? "of a type" : aTypeName(type);
      return `${name} is ${what}, which ${taker} does not take.${list === "" ? "" : ` It takes: ${list}.`}`;
    }
    case "QUOTA_EXCEEDED": {
      const used = num(details, "usedBytes") ?? 0;
      const reserved = num(details, "reservedBytes") ?? 0;
      const limit = num(details, "limitBytes");
      const needed = num(details, "rejectedBytes") ?? subject.size;
      // The space is the link's creator's: how much they use is not the holder's business.
      if (viaLink) return `There is no room left for ${name} (${formatBytes(needed)}) where this link keeps files. Let whoever sent you the link know.`;
      if (limit === undefined) return `Not enough space left for ${name}. Delete some files to make room.`;
      const held = reserved > 0 ? `, and uploads in progress hold ${formatBytes(reserved)}` : "";
      const free = formatBytes(Math.max(limit - used - reserved, 0));
      return `Not enough space for ${name} (${formatBytes(needed)}): you use ${formatBytes(used)} of your ${formatBytes(limit)}${held}, ` +
        `so ${free} is free. Delete some files to make room.`;
    }
    case "CONTENT_TYPE_MISMATCH": {
      const declared = str(details, "declared");
      const detected = str(details, "detected");
      const claimed = declared === undefined ? "what it claims to be" : aTypeName(declared);
      return `${name} was refused: its content is not ${claimed}${detected === undefined ? "" : ` but ${aTypeName(detected)}`}. ` +
        "The server checks what is really in a file, not its name or the type it claims. It was not kept.";
    }
    case "BAD_DIGEST":
      return `${name} was damaged on the way: the bytes that reached storage were not the ones sent (their checksum did not match), ` +
        "so storage refused them and kept nothing. Try again; if it happens again, something between you and the server is altering uploads.";
    case "OWNER_ID_REQUIRED":
      // A link names the owner id its type needs (the server requires it when the link is made): only its sender can fix this.
      if (viaLink) return `${name} cannot be sent through this link: it needs to say what its files belong to, which only whoever sent it can set. Let them know.`;
      return `${ownerType} files belong to something (a conversation, a record): enter its id as the owner id, then pick the file again.`;
    case "ETAG_NOT_EXPOSED":
      return `${name} reached storage, but the upload cannot be finished: the storage's CORS rules hide the ETag header that ` +
        `completing an upload needs. Whoever runs this server must run: stowage storage cors --origin ${subject.origin}`;
    case "ABORTED":
      return `${name}: cancelled.`;
    case "LINK_EXPIRED":
    case "LINK_REVOKED":
    case "LINK_USED_UP":
    case "UNAUTHENTICATED":
      if (viaLink) return `${name} was not uploaded. ${explainLink(error)}`;
      return `${name} was refused: ${error.message}`;
    default:
      if (error.kind === "network") {
        return `${name} could not be uploaded: the network or the storage could not be reached, even after several tries. ` +
          "Check your connection, then try again.";
      }
      if (error.kind === "configuration") return `${name} could not be uploaded: this server is set up wrong. ${error.message}`;
      return `${name} was refused: ${error.message}`;
  }
}

/**
 * Why an upload link takes no files (`isLinkClosed`), for the person who opened it: they have no
 * account and did not make the link, so each says what happened and who can help. A wrong or
 * unknown token is one message whatever the cause (the server does not tell them apart either).
 */
export function explainLink(error: unknown): string {
  const code = isStowageClientError(error) ? error.code : undefined;
  switch (code) {
    case "LINK_EXPIRED":
      return "This upload link has expired, so it takes no more files. Ask whoever sent it to you for a new one.";
    case "LINK_REVOKED":
      return "This upload link was withdrawn by whoever sent it, so it takes no more files. Ask them for a new one if you still need to send something.";
    case "LINK_USED_UP":
      return "This upload link has been used as many times as it allows, so it takes no more files. Ask whoever sent it to you for a new one.";
    default:
      return "This upload link is not valid. Check that you opened the whole address you were sent (a link cut short does not work), " +
        "or ask whoever sent it to you for a new one.";
  }
}

/** Refusals that say something about the file or the caller, not the moment: trying again cannot help. */
const FINAL = new Set([
  "FILE_TOO_LARGE", "CONTENT_TYPE_NOT_ALLOWED", "CONTENT_TYPE_MISMATCH", "OWNER_ID_REQUIRED", "FORBIDDEN", "UNKNOWN_OWNER_TYPE",
  "LINK_EXPIRED", "LINK_REVOKED", "LINK_USED_UP", "UNAUTHENTICATED",
]);

/** Whether "Try again" makes sense: after network trouble, a full quota (once space is freed), a damaged part… */
export function mayRetry(error: unknown): boolean {
  return !(isStowageClientError(error) && FINAL.has(error.code));
}

/** The SDK is trying a transfer again (`onRetry`): what the person sees meanwhile. */
export function describeRetry(info: { attempt: number; reason: string; partNumber?: number }): string {
  const what = info.partNumber === undefined ? "" : ` part ${info.partNumber}`;
  if (info.reason.startsWith("re-signing")) return `The upload link expired; retrying${what} with a fresh one…`;
  const cause = info.reason === "stalled" ? "no progress" : info.reason === "network" ? "connection failed" : info.reason;
  return `Network trouble (${cause}): retrying${what}…`;
}

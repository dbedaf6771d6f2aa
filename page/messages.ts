import { isStowageClientError } from "./api.js";
import { aTypeName, formatBytes, typeName } from "./format.js";

/** What the sentence is about: the file, and the owner type it was meant for. */
export interface Subject {
  name: string;
  size: number;
  ownerType: string;
  /** The page's origin, for the one fix an administrator must make (`storage cors`). */
  origin: string;
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
  const { name, ownerType } = subject;
  if (!isStowageClientError(error)) return `${name} could not be uploaded: ${error instanceof Error ? error.message : String(error)}`;
  const { details } = error;
  switch (error.code) {
    case "FILE_TOO_LARGE": {
      const max = num(details, "maxBytes");
      const size = num(details, "size") ?? subject.size;
      return max === undefined
        ? `${name} is too large for ${ownerType}.`
        : `${name} is ${formatBytes(size)}, but ${ownerType} files may be at most ${formatBytes(max)}.`;
    }
    case "CONTENT_TYPE_NOT_ALLOWED": {
      const type = str(details, "contentType");
      const allowed = Array.isArray(details?.allowedTypes) ? details.allowedTypes.map(String) : [];
      const list = allowed.map((t) => (typeName(t) === t ? t : `${typeName(t)} (${t})`)).join(", ");
      const what = type === undefined ? "of a type" : aTypeName(type);
      return `${name} is ${what}, which ${ownerType} does not take.${list === "" ? "" : ` It takes: ${list}.`}`;
    }
    case "QUOTA_EXCEEDED": {
      const used = num(details, "usedBytes") ?? 0;
      const reserved = num(details, "reservedBytes") ?? 0;
      const limit = num(details, "limitBytes");
      const needed = num(details, "rejectedBytes") ?? subject.size;
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
      return `${ownerType} files belong to something (a conversation, a record): enter its id as the owner id, then pick the file again.`;
    case "ETAG_NOT_EXPOSED":
      return `${name} reached storage, but the upload cannot be finished: the storage's CORS rules hide the ETag header that ` +
        `completing an upload needs. Whoever runs this server must run: stowage storage cors --origin ${subject.origin}`;
    case "ABORTED":
      return `${name}: cancelled.`;
    default:
      if (error.kind === "network") {
        return `${name} could not be uploaded: the network or the storage could not be reached, even after several tries. ` +
          "Check your connection, then try again.";
      }
      if (error.kind === "configuration") return `${name} could not be uploaded: this server is set up wrong. ${error.message}`;
      return `${name} was refused: ${error.message}`;
  }
}

/** Refusals that say something about the file or the caller, not the moment: trying again cannot help. */
const FINAL = new Set(["FILE_TOO_LARGE", "CONTENT_TYPE_NOT_ALLOWED", "CONTENT_TYPE_MISMATCH", "OWNER_ID_REQUIRED", "FORBIDDEN", "UNKNOWN_OWNER_TYPE"]);

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

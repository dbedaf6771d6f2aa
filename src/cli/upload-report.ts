import { isStowageClientError, type UploadResult } from "../../packages/client/src/node.js";

/** One file's outcome, as `--json` prints it (an array of these, in the order given). */
export type FileResult =
  | {
    file: string;
    ok: true;
    id: string;
    key: string;
    status: string;
    size: number;
    contentType: string;
    /** Where it is served; absent while the server scans it. */
    url?: string | undefined;
    ownerType: string;
    /** Whether parts stored by an earlier, interrupted run were reused. */
    resumed: boolean;
    /** Bytes this run sent (less than `size` when it resumed). */
    bytesSent: number;
  }
  | { file: string; ok: false; error: FileError; bytesSent: number };

export interface FileError {
  /** The server's code (`QUOTA_EXCEEDED`, …), the SDK's (`PAUSED`, `NETWORK_ERROR`, …) or `FILE_UNREADABLE`. */
  code: string;
  kind: string;
  message: string;
  status?: number;
  details?: Record<string, unknown>;
}

export function succeeded(file: string, result: UploadResult, bytesSent: number): FileResult {
  const { id, key, status, size, contentType, ownerType, resumed } = result;
  const url = "url" in result ? result.url : undefined;
  return { file, ok: true, id, key, status, size, contentType, url, ownerType, resumed, bytesSent };
}

/** What went wrong with one file, from whatever was thrown. */
export function fileError(error: unknown): FileError {
  if (isStowageClientError(error)) {
    return {
      code: error.code,
      kind: error.kind,
      message: error.message,
      ...(error.status === undefined ? {} : { status: error.status }),
      ...(error.details === undefined ? {} : { details: error.details }),
    };
  }
  const message = error instanceof Error ? error.message : String(error);
  // Node's own file errors (ENOENT, EACCES, EISDIR) and the SDK's "is not a file".
  const errno = (error as { code?: unknown } | null)?.code;
  if (typeof errno === "string" || /is not a file/.test(message)) return { code: "FILE_UNREADABLE", kind: "local", message };
  return { code: "INTERNAL", kind: "local", message };
}

const MiB = 1024 * 1024;

/** Bytes for people: `812 B`, `4.0 KiB`, `1.5 MiB`, `2.00 GiB`. */
export function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < MiB) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 * MiB) return `${(n / MiB).toFixed(1)} MiB`;
  return `${(n / 1024 / MiB).toFixed(2)} GiB`;
}

const num = (value: unknown) => (typeof value === "number" ? value : undefined);

/** The figures a refusal carries, in words: what a person needs to decide what to do. */
function figures(error: FileError): string | undefined {
  const d = error.details ?? {};
  switch (error.code) {
    case "QUOTA_EXCEEDED": {
      const [used, reserved, limit, rejected] = [num(d.usedBytes), num(d.reservedBytes), num(d.limitBytes), num(d.rejectedBytes)];
      if (used === undefined || limit === undefined) return undefined;
      const held = reserved === undefined || reserved === 0 ? "" : ` (+ ${bytes(reserved)} held by uploads in progress)`;
      return `${bytes(used)} of ${bytes(limit)} used${held}${rejected === undefined ? "" : `; this file needs ${bytes(rejected)}`}`;
    }
    case "FILE_TOO_LARGE": {
      const [size, max] = [num(d.size), num(d.maxBytes)];
      return size === undefined || max === undefined ? undefined : `${bytes(size)}, at most ${bytes(max)} allowed`;
    }
    case "CONTENT_TYPE_NOT_ALLOWED":
      return Array.isArray(d.allowedTypes) ? `allowed: ${d.allowedTypes.join(", ")}; set --content-type if the guess was wrong` : undefined;
    case "TOO_MANY_PENDING_UPLOADS":
      return num(d.maxPendingUploads) === undefined ? undefined : `at most ${num(d.maxPendingUploads)} uploads in progress at once`;
    default:
      return undefined;
  }
}

/** A finished file as one line: what a log or a person reading a pipe sees. */
export function resultLine(result: FileResult): string {
  if (!result.ok) return `${result.file}: ${errorText(result.error)}`;
  const resumed = result.resumed ? `, resumed: ${bytes(result.bytesSent)} sent this time` : "";
  return `${result.file}: ${result.status}, ${bytes(result.size)}${resumed}  id ${result.id}${result.url === undefined ? "" : `  ${result.url}`}`;
}

/** `refused (QUOTA_EXCEEDED): This upload would exceed… — 95.0 MiB of 100.0 MiB used; …` */
export function errorText(error: FileError): string {
  const extra = figures(error);
  const label = error.kind === "refused" ? "refused" : error.kind === "aborted" ? "stopped" : "failed";
  return `${label} (${error.code}): ${error.message}${extra === undefined ? "" : ` — ${extra}`}`;
}

import { stat } from "node:fs/promises";
import { StowageError } from "../../errors.js";

const FS_UNAVAILABLE = new Set(["EACCES", "EPERM", "ENOSPC", "EIO", "EROFS", "EDQUOT", "EMFILE"]);

export function isFsUnavailable(error: unknown): boolean {
  return FS_UNAVAILABLE.has((error as NodeJS.ErrnoException | undefined)?.code ?? "");
}

/** Disk-level failures (permissions, full disk, I/O) become 503 STORAGE_UNAVAILABLE. */
export async function guardFs<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (isFsUnavailable(error)) {
      throw new StowageError("STORAGE_UNAVAILABLE", "Local storage is not available.", { cause: error });
    }
    throw error;
  }
}

/** `stat`, with a missing path (or a file where a folder should be) as undefined. */
export async function statOrUndefined(path: string) {
  try {
    return await stat(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return undefined;
    throw error;
  }
}

import { opendir, stat } from "node:fs/promises";
import { join } from "node:path";

export interface WalkedFile {
  key: string;
  size: number;
  mtime: Date;
}

/**
 * Files under `root` whose key (path relative to `root`, `/`-separated) starts with `prefix`.
 * Starts at the prefix's deepest directory so listing one user's folder does not walk the
 * whole bucket; streams, so memory stays flat however many objects there are.
 */
export async function* walkFiles(
  root: string,
  prefix: string,
  signal?: AbortSignal,
): AsyncGenerator<WalkedFile> {
  const slash = prefix.lastIndexOf("/");
  const startKey = slash >= 0 ? prefix.slice(0, slash + 1) : "";
  if (startKey.split("/").some((segment) => segment === "..")) return;
  const stack: string[] = [startKey];
  while (stack.length > 0) {
    signal?.throwIfAborted();
    const dirKey = stack.pop() as string;
    let dir: Awaited<ReturnType<typeof opendir>>;
    try {
      dir = await opendir(join(root, dirKey));
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === "ENOENT" || code === "ENOTDIR") continue;
      throw error;
    }
    for await (const entry of dir) {
      const key = `${dirKey}${entry.name}`;
      if (entry.isDirectory()) {
        if (prefix.startsWith(`${key}/`) || `${key}/`.startsWith(prefix)) stack.push(`${key}/`);
      } else if (entry.isFile() && key.startsWith(prefix)) {
        const info = await stat(join(root, key)).catch(() => undefined);
        if (info !== undefined) yield { key, size: info.size, mtime: info.mtime };
      }
    }
  }
}

/** What is kept of an unfinished multipart upload, so a later `upload` of the same file resumes it. */
export interface ResumeEntry {
  uploadId: string;
  partSize: number;
  partCount: number;
  /** ETags of the parts this client saw stored (the server's list is what counts). */
  etags: Record<string, string>;
  savedAt: number;
}

/**
 * Where resume entries live: `localStorage` in browsers, a file in Node, memory anywhere. React
 * Native (or any other platform) implements these three methods over its own storage.
 */
export interface ResumeStore {
  get(key: string): ResumeEntry | undefined | Promise<ResumeEntry | undefined>;
  set(key: string, entry: ResumeEntry): void | Promise<void>;
  delete(key: string): void | Promise<void>;
}

export function memoryResumeStore(): ResumeStore {
  const entries = new Map<string, ResumeEntry>();
  return {
    get: (key) => entries.get(key),
    set: (key, entry) => void entries.set(key, entry),
    delete: (key) => void entries.delete(key),
  };
}

/** Browsers: entries in `localStorage` under `stowage:resume:` (a full or disabled storage is ignored). */
export function localStorageResumeStore(storage: Storage = globalThis.localStorage): ResumeStore {
  const prefix = "stowage:resume:";
  return {
    get(key) {
      try {
        const text = storage.getItem(prefix + key);
        return text === null ? undefined : (JSON.parse(text) as ResumeEntry);
      } catch {
        return undefined;
      }
    },
    set(key, entry) {
      try {
        storage.setItem(prefix + key, JSON.stringify(entry));
      } catch {
        // Out of space or private mode: the upload still works, it only cannot resume.
      }
    },
    delete(key) {
      try {
        storage.removeItem(prefix + key);
      } catch {
        // As above.
      }
    },
  };
}

/**
 * Which stored upload a file belongs to: the same file (name, size, last modification, type)
 * uploaded to the same server for the same owner.
 */
export function fingerprint(parts: {
  baseUrl: string;
  ownerType: string;
  ownerId: string | undefined;
  name: string | undefined;
  size: number;
  lastModified: number | undefined;
  contentType: string;
}): string {
  return JSON.stringify([parts.baseUrl, parts.ownerType, parts.ownerId ?? "", parts.name ?? "", parts.size, parts.lastModified ?? 0, parts.contentType]);
}

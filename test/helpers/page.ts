import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildPage } from "../../scripts/build-page.js";

export interface TestPageBuild {
  /** Pass to `startStowage(env, { pageDir: dir })`. */
  dir: string;
  /** Hashed asset names by entry (`main.js`, `styles.css`). */
  assets: Record<string, string>;
  remove(): Promise<void>;
}

/** A fresh build of `page/` in a temp dir, so no test depends on what `dist/page/` holds. */
export async function buildTestPage(): Promise<TestPageBuild> {
  const dir = await mkdtemp(join(tmpdir(), "stowage-page-"));
  const { assets } = await buildPage({ dir });
  return { dir, assets, remove: () => rm(dir, { recursive: true, force: true }) };
}

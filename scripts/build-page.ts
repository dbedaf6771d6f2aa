// Builds the upload page (`page/`) into `dist/page/` for `stowage serve`: `npm run build` runs
// this file; tests import `buildPage` and build into a directory of their own.
import { randomUUID } from "node:crypto";
import { mkdir, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { basename, dirname, join, relative } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { build } from "esbuild";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const SOURCE = join(ROOT, "page");
/** Where `stowage serve` looks by default (`uploadPage.dir` in the config). */
export const DEFAULT_PAGE_DIR = join(ROOT, "dist", "page");

export interface BuiltPage {
  /** Holds `index.html` and `assets/`. */
  dir: string;
  /** The hashed asset names `index.html` refers to, by entry (`main.js`, `styles.css`). */
  assets: Record<string, string>;
}

/**
 * Bundles `page/main.ts` and `page/styles.css` for current browsers (ES2022) into
 * `{dir}/assets/` under content-hashed names (served with a year's cache), and writes
 * `{dir}/index.html` with `{{main.js}}` and `{{styles.css}}` replaced by their URLs, in tens of
 * milliseconds. Every file is written to a temporary name and renamed into place, the HTML last, so
 * a server (or another build of the same sources) never sees half a build; assets of earlier
 * builds are then removed.
 *
 * @example
 * const { dir } = await buildPage({ dir: await mkdtemp(join(tmpdir(), "page-")) });
 */
export async function buildPage(options: { dir?: string } = {}): Promise<BuiltPage> {
  const dir = options.dir ?? DEFAULT_PAGE_DIR;
  const assetsDir = join(dir, "assets");
  const result = await build({
    absWorkingDir: ROOT,
    entryPoints: { main: join(SOURCE, "main.ts"), styles: join(SOURCE, "styles.css") },
    tsconfig: join(SOURCE, "tsconfig.json"),
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    minify: true,
    sourcemap: "linked",
    legalComments: "none",
    entryNames: "[name]-[hash]",
    outdir: assetsDir,
    metafile: true,
    write: false,
    logLevel: "silent",
  });
  const assets: Record<string, string> = {};
  for (const [output, meta] of Object.entries(result.metafile.outputs)) {
    if (meta.entryPoint === undefined) continue;
    const entry = basename(meta.entryPoint).replace(/\.ts$/, ".js");
    assets[entry] = basename(output);
  }
  const template = await readFile(join(SOURCE, "index.html"), "utf8");
  const html = template.replace(/\{\{([\w.-]+)\}\}/g, (_match, name: string) => {
    const asset = assets[name];
    if (asset === undefined) throw new Error(`page/index.html: no asset for {{${name}}} (built: ${Object.keys(assets).join(", ")})`);
    return `/page/${asset}`;
  });

  // Temp files beside the targets (same file system, so rename is atomic), in a folder of
  // this build's own: a concurrent build never removes them.
  const staging = join(dir, `.build-${randomUUID()}`);
  await mkdir(staging, { recursive: true });
  await mkdir(assetsDir, { recursive: true });
  try {
    const place = async (target: string, contents: Uint8Array | string) => {
      const temp = join(staging, relative(dir, target).replaceAll("/", "_"));
      await writeFile(temp, contents);
      await mkdir(dirname(target), { recursive: true });
      await rename(temp, target);
    };
    for (const file of result.outputFiles) await place(file.path, file.contents);
    await place(join(dir, "index.html"), html);
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
  const current = new Set(result.outputFiles.map((file) => basename(file.path)));
  for (const name of await readdir(assetsDir)) {
    if (!current.has(name)) await rm(join(assetsDir, name), { force: true });
  }
  return { dir, assets };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await buildPage();
}

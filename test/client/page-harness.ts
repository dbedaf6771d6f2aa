/**
 * Test pages in real Chromium: entries under test/client/pages are bundled with esbuild and
 * served by a tiny static server on an origin of their own (`http://localhost:<port>`), so the
 * page talks to the real Stowage server (`http://127.0.0.1:<port>`) across origins, as a web app
 * does, through its CORS.
 *
 * A real server rather than Playwright's `route.fulfill`: a fulfilled document has no address,
 * so Chromium counts it as public and its Local Network Access checks refuse its requests to the
 * loopback server; a page served from loopback may reach loopback, as a developer's app does.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { basename, extname, join } from "node:path";
import { build } from "esbuild";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { BROWSER_STEP_TIMEOUT_MS, launchBrowser } from "../helpers/browser.js";
import type { PageConfig } from "./pages/page-config.js";

export const ARTIFACTS = join(import.meta.dirname, "..", "..", "test-artifacts");

export interface BuiltPages {
  /** Where they are served: `http://localhost:<port>` (`/name.html`, `/name.js`, `/name.css`). */
  origin: string;
  close(): Promise<void>;
}

const TYPES: Record<string, string> = { ".js": "text/javascript", ".css": "text/css", ".html": "text/html" };

function pageHtml(entry: string, withCss: boolean): string {
  return [
    "<!doctype html><html lang=en><meta charset=utf-8><title>Stowage test</title>",
    // No favicon request: its 404 would be a console error.
    "<link rel=icon href=\"data:,\">",
    withCss ? `<link rel=stylesheet href="/${entry}.css">` : "",
    `<body style="margin:16px;font-family:sans-serif"><div id=app></div><script type=module src="/${entry}.js"></script>`,
  ].join("");
}

/** Bundles each entry for the browser (React in its development build, so StrictMode double-runs effects). */
export async function buildPages(entries: readonly string[]): Promise<BuiltPages> {
  const outdir = mkdtempSync(join(tmpdir(), "stowage-pages-"));
  const result = await build({
    entryPoints: entries.map((entry) => join(import.meta.dirname, "pages", entry)),
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "chrome120",
    jsx: "automatic",
    define: { "process.env.NODE_ENV": "\"development\"" },
    sourcemap: "inline",
    outdir,
    metafile: true,
    logLevel: "silent",
  });
  const files = new Map<string, Buffer>();
  for (const output of Object.keys(result.metafile.outputs)) files.set(basename(output), readFileSync(output));
  rmSync(outdir, { recursive: true, force: true });
  for (const name of [...files.keys()].filter((n) => n.endsWith(".js"))) {
    const entry = name.slice(0, -3);
    files.set(`${entry}.html`, Buffer.from(pageHtml(entry, files.has(`${entry}.css`))));
  }
  const server = createServer((request, response) => {
    const name = new URL(request.url ?? "/", "http://localhost").pathname.slice(1);
    const body = files.get(name);
    response.writeHead(body === undefined ? 404 : 200, { "content-type": TYPES[extname(name)] ?? "text/plain" });
    response.end(body ?? "not found");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    origin: `http://localhost:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The one launch of Debian's Chromium the browser tests share (`test/helpers/browser.ts`). */
export const launchChromium: () => Promise<Browser> = launchBrowser;

export interface TestPage {
  page: Page;
  context: BrowserContext;
  /** Console errors and uncaught exceptions, as text. */
  consoleErrors: string[];
  /** What the page recorded (`record` in pages/page-config.ts). */
  events(): Promise<Record<string, unknown>[]>;
  /** Limits the page's upload bandwidth (Chromium's own network emulation), so a transfer can be caught midway. */
  throttleUpload(bytesPerSecond: number): Promise<void>;
  screenshot(name: string): Promise<string>;
  close(): Promise<void>;
}

/** Opens `entry` (a built page's name, without extension), with `config` set before any script. */
export async function openPage(
  browser: Browser,
  pages: BuiltPages,
  options: { entry: string; config: PageConfig; query?: string },
): Promise<TestPage> {
  const context = await browser.newContext({ viewport: { width: 960, height: 720 } });
  context.setDefaultTimeout(BROWSER_STEP_TIMEOUT_MS);
  await context.addInitScript((config) => {
    window.stowageTest = config;
  }, options.config);
  const page = await context.newPage();
  const consoleErrors: string[] = [];
  page.on("console", (message) => {
    if (message.type() === "error") consoleErrors.push(message.text());
  });
  page.on("pageerror", (error) => consoleErrors.push(`uncaught: ${error.message}`));
  await page.goto(`${pages.origin}/${options.entry}.html${options.query ?? ""}`);
  return {
    page,
    context,
    consoleErrors,
    events: () => page.evaluate(() => window.testEvents),
    async throttleUpload(bytesPerSecond) {
      const cdp = await context.newCDPSession(page);
      await cdp.send("Network.enable");
      await cdp.send("Network.emulateNetworkConditions", { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: bytesPerSecond });
    },
    async screenshot(name) {
      mkdirSync(ARTIFACTS, { recursive: true });
      const path = join(ARTIFACTS, `${name}.png`);
      await page.screenshot({ path, fullPage: true });
      return path;
    },
    close: () => context.close(),
  };
}

import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import { ROOT } from "./cli.js";

/** Debian's Chromium (`scripts/browser.sh install`); playwright-core brings no browser of its own. */
export const CHROMIUM = "/usr/bin/chromium";

/** Screenshots go here (git-ignored), for people to look at after a run. */
export const ARTIFACTS_DIR = join(ROOT, "test-artifacts");

/**
 * Root in a container needs `--no-sandbox`; no GPU on a CI machine; and nothing the browser
 * would fetch on its own (updates, sync, field trials, QUIC probes) to slow a test or fail it.
 */
const ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** Headless Chromium: launch one per test file (~0.5–1 s), a fresh context per test. */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS });
}

export interface TestPage {
  page: Page;
  context: BrowserContext;
  /**
   * What the page reported as errors: `console.error` (and Chromium's own lines, such as a
   * failed load), and uncaught exceptions. Tests of a page that should be clean assert `[]`.
   */
  errors: string[];
  close(): Promise<void>;
}

/**
 * How long a browser step may wait (Playwright's default is 30 s). CI runs two suites side by
 * side on two cores, each with Chromium: a throttled 5 MiB part and its MD5 took over 30 s there
 * once. A step that goes right takes what it takes; this only bounds one that never would.
 */
export const BROWSER_STEP_TIMEOUT_MS = 90_000;

/** A page in a context of its own: no cookies, storage or cache shared with any other test. */
export async function openPage(browser: Browser): Promise<TestPage> {
  const context = await browser.newContext({ viewport: { width: 1100, height: 760 } });
  context.setDefaultTimeout(BROWSER_STEP_TIMEOUT_MS);
  const page = await context.newPage();
  const errors: string[] = [];
  page.on("console", (message) => {
    if (message.type() === "error") errors.push(`console: ${message.text()}`);
  });
  page.on("pageerror", (error) => errors.push(`uncaught: ${error.message}`));
  return { page, context, errors, close: () => context.close() };
}

/** Saves a full-page PNG as `test-artifacts/{name}.png`; answers its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  await mkdir(ARTIFACTS_DIR, { recursive: true });
  const path = join(ARTIFACTS_DIR, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

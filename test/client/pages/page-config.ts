/** What the test hands each page before its scripts run (Playwright's addInitScript), and what it reads back. */
export interface PageConfig {
  /** The Stowage server, on another origin than the page (its CORS allows the page's). */
  baseUrl: string;
  token: string;
  /** Parts sent at once (the client's `concurrency`): 1 makes "which parts were stored" exact. */
  partConcurrency?: number;
  /** Fewer, faster retries than the default, for a failure to arrive in a test's time. */
  retry?: { retries: number; minDelayMs: number; maxDelayMs: number };
}

declare global {
  interface Window {
    stowageTest: PageConfig;
    /** What happened on the page, in order, for the test to read. */
    testEvents: Record<string, unknown>[];
  }
}

export function pageConfig(): PageConfig {
  window.testEvents = [];
  return window.stowageTest;
}

export function record(event: Record<string, unknown>): void {
  window.testEvents.push(event);
}

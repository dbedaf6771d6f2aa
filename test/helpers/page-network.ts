// What the upload page sends, seen and steered from the test: Playwright request events and routes.
// Mind that while any route is set, Playwright answers the browser's CORS preflights itself (and
// allows them): the store's real preflights are met only in tests without routes. The store's
// answers to the requests themselves, and so `Access-Control-Allow-Origin` and ETag exposure,
// still come from the store and are enforced by the browser.
import type { Page, Request, Route } from "playwright-core";

/** The part number a URL PUTs (S3 and the local store both name it `partNumber`), if any. */
export const partOf = (url: string | URL): number | undefined => {
  const n = new URL(url).searchParams.get("partNumber");
  return n === null ? undefined : Number(n);
};
export const isPartPut = (request: Request) => request.method() === "PUT" && partOf(request.url()) !== undefined;
/** `POST /v1/uploads`: the presign, which reserves the size. */
export const isPresign = (request: Request) => request.method() === "POST" && new URL(request.url()).pathname === "/v1/uploads";

/** Bytes of every PUT body the page sent and got an answer for (its Content-Length on the wire). */
export function countPutBytes(page: Page): { total(): Promise<number> } {
  const sent: Promise<number>[] = [];
  page.on("requestfinished", (request) => {
    if (request.method() === "PUT") sent.push(request.allHeaders().then((headers) => Number(headers["content-length"])));
  });
  return { total: async () => (await Promise.all(sent)).reduce((sum, n) => sum + n, 0) };
}

/**
 * Holds the PUTs of these parts where the browser's request leaves (they are under way as far as
 * the page knows) until `release`, or until the page drops them: "mid-upload", without timing.
 */
export async function holdParts(page: Page, parts: readonly number[]): Promise<{ release(): Promise<void> }> {
  const held: Route[] = [];
  await page.route((url) => parts.includes(partOf(url) ?? 0), async (route) => {
    if (route.request().method() !== "PUT") return route.fallback();
    held.push(route);
  });
  return {
    async release() {
      await page.unrouteAll({ behavior: "ignoreErrors" });
      await Promise.all(held.map((route) => route.continue().catch(() => undefined)));
    },
  };
}

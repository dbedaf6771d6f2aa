import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import fastifyStatic from "@fastify/static";
import type { App } from "./types.js";

export interface UploadPageOptions {
  /** The built page: `index.html` and `assets/` (`scripts/build-page.ts`, `npm run build`). */
  dir: string;
  /**
   * Origins other than this one the page sends uploads to and loads media from: the store's
   * and the CDN's (`StorageDriver.browserOrigins`). Its Content-Security-Policy allows only these.
   */
  storageOrigins: readonly string[];
}

/** Where the page's assets are served; their names carry a content hash. */
export const PAGE_ASSETS_PREFIX = "/page/";

/** Whether `dir` holds a built page. */
export function isPageBuilt(dir: string): boolean {
  return existsSync(join(dir, "index.html"));
}

/**
 * The page's policy (CSP Level 3): scripts, styles and fonts only from this origin, no inline
 * script or style, `fetch`/XHR only to this origin (the API) and the stores its uploads go to,
 * images and media also from `blob:`/`data:` (previews of picked files). No frames, no plugins,
 * no `<base>`, forms post only here. The token it holds is worth protecting: this keeps any
 * injected markup from running script or sending it elsewhere.
 */
export function contentSecurityPolicy(storageOrigins: readonly string[]): string {
  const stores = storageOrigins.length === 0 ? "" : ` ${storageOrigins.join(" ")}`;
  return [
    "default-src 'none'",
    // WebAssembly compiles only with 'wasm-unsafe-eval' (not 'unsafe-eval': no eval of strings):
    // the SDK's MD5 runs as WebAssembly, about 5× its JavaScript fallback (bench integrity).
    "script-src 'self' 'wasm-unsafe-eval'",
    "style-src 'self'",
    "font-src 'self'",
    `connect-src 'self'${stores}`,
    `img-src 'self' blob: data:${stores}`,
    `media-src 'self' blob:${stores}`,
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
    "object-src 'none'",
  ].join("; ");
}

/**
 * `GET /`: the upload page (`page/`), and `GET /page/*`: its hashed assets. The HTML is never
 * cached (it names the assets of the current build) and is read on each request, so a rebuild
 * shows at the next load; the assets are immutable for a year. Neither is part of the API: both
 * stay out of the OpenAPI document.
 */
export function registerUploadPage(app: App, options: UploadPageOptions): void {
  const index = join(options.dir, "index.html");
  const policy = contentSecurityPolicy(options.storageOrigins);
  void app.register(async (scope) => {
    scope.addHook("onSend", (_request, reply, payload, done) => {
      void reply.header("X-Content-Type-Options", "nosniff");
      done(null, payload);
    });
    scope.get("/", { schema: { hide: true } }, async (_request, reply) => {
      const html = await readFile(index).catch((error: unknown) => {
        // Removed since start-up (a clean, a rebuild under way): as if there were no page.
        if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
        throw error;
      });
      if (html === undefined) return reply.callNotFound();
      return reply
        .type("text/html; charset=utf-8")
        .header("Cache-Control", "no-store")
        .header("Content-Security-Policy", policy)
        // A Referer never carries the fragment (the token), but other origins need not learn the page's address either.
        .header("Referrer-Policy", "no-referrer")
        .send(html);
    });
    await scope.register(fastifyStatic, {
      root: join(options.dir, "assets"),
      prefix: PAGE_ASSETS_PREFIX,
      // Another registration (the /docs page's) may decorate replies; this one serves files only.
      decorateReply: false,
      index: false,
      list: false,
      // Files only: a folder (`/page/`) would be refused with a 403; it is a 404 like any other miss.
      allowedPath: (path) => !path.endsWith("/"),
      maxAge: "365d",
      immutable: true,
    });
  });
}

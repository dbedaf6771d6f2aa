import assert from "node:assert/strict";
import type { ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, afterEach, before, beforeEach, describe, it } from "node:test";
import type { Browser, Page } from "playwright-core";
import { buildPage } from "../../scripts/build-page.js";
import type { PolicyList } from "../../src/api/index.js";
import { contentSecurityPolicy } from "../../src/http/upload-page.js";
import { launchBrowser, openPage, screenshot, type TestPage } from "../helpers/browser.js";
import { spawnStowage } from "../helpers/cli.js";
import { PDF, PNG } from "../helpers/fixtures.js";
import { confirm, presign, presignAndPut } from "../helpers/flow.js";
import { rawRequest } from "../helpers/http.js";
import { buildTestPage, type TestPageBuild } from "../helpers/page.js";
import { freePort } from "../helpers/ports.js";
import { stowageS3Env, tempBucket } from "../helpers/s3.js";
import { startStowage, type TestServer } from "../helpers/server.js";

const user = (name: string) => `${name}-${randomBytes(4).toString("hex")}`;
const storedToken = (page: Page) => page.evaluate("sessionStorage.getItem('stowage.token')");
const assetsOf = (html: string) => [...html.matchAll(/"(\/page\/[^"]+)"/g)].map((m) => m[1] ?? "");

describe("the upload page in Chromium", () => {
  let build: TestPageBuild;
  let server: TestServer;
  let browser: Browser;
  let tab: TestPage;
  before(async () => {
    build = await buildTestPage();
    [server, browser] = await Promise.all([startStowage({}, { pageDir: build.dir }), launchBrowser()]);
  });
  after(async () => {
    await browser?.close();
    await server?.close();
    await build?.remove();
  });
  beforeEach(async () => {
    tab = await openPage(browser);
  });
  afterEach(async () => tab.close());

  it("loads with no console errors and asks for a token", async () => {
    await tab.page.goto(`${server.baseUrl}/`);
    await tab.page.getByRole("heading", { name: "Sign in" }).waitFor();
    assert.ok(await tab.page.getByLabel("Bearer token").isVisible());
    await screenshot(tab.page, "upload-page-sign-in");
    assert.deepEqual(tab.errors, []);
  });

  it("signs in from /#token=…: the token leaves the address bar for sessionStorage, the quota and owner types appear", async () => {
    const name = user("page");
    // Bytes used (a confirmed avatar) and bytes held (a presigned, unsent PDF), for the meter.
    const avatar = await presignAndPut(server, name, PNG, { ownerType: "avatar", contentType: "image/png", filename: "me.png" });
    assert.equal((await confirm(server, name, avatar.id)).status, 200);
    assert.equal((await presign(server, name, { contentType: "application/pdf", size: 3 * 1024 * 1024 })).status, 201);
    const token = await server.token(name);

    await tab.page.goto(`${server.baseUrl}/#token=${token}`);
    await tab.page.getByRole("heading", { name: "Your uploads" }).waitFor();
    assert.equal(tab.page.url(), `${server.baseUrl}/`, "the fragment is gone from the address");
    assert.equal(await storedToken(tab.page), token);
    assert.equal(await tab.page.locator(".account strong").textContent(), name);

    const policies = (await server.api("GET", "/v1/policies", { as: name })).json<PolicyList>();
    const rows = tab.page.getByRole("table", { name: "What you can upload" }).locator("tbody tr");
    assert.deepEqual(await rows.locator("th").allTextContents(), policies.items.map((p) => p.ownerType));
    const avatarRow = rows.filter({ hasText: "avatar" });
    assert.deepEqual(await avatarRow.locator("li").allTextContents(), ["image/jpeg", "image/png"]);
    // 5 * 1000 * 1000 bytes: round in decimal units, so named exactly in them.
    assert.equal(await avatarRow.locator("td.number").textContent(), "5 MB");

    const meter = tab.page.getByRole("meter", { name: "Your storage" });
    assert.equal(await meter.getAttribute("value"), String(PNG.length + 3 * 1024 * 1024));
    assert.equal(await meter.getAttribute("max"), String(100 * 1024 * 1024));
    assert.equal(
      await tab.page.locator("#quota-user-text").textContent(),
      `${PNG.length} bytes of 100 MiB used · 3 MiB held by uploads in progress · 97 MiB free`,
    );
    assert.ok(await tab.page.getByText("1 upload in progress").isVisible());
    await screenshot(tab.page, "upload-page-signed-in");

    // This tab keeps the token: a reload stays signed in, and the address stays clean.
    await tab.page.reload();
    await tab.page.getByRole("heading", { name: "Your uploads" }).waitFor();
    assert.equal(tab.page.url(), `${server.baseUrl}/`);
    assert.deepEqual(tab.errors, []);
  });

  it("refuses a token the server does not accept with a clear message, forgets it, and shows the form", async () => {
    const forged = await server.token("mallory", { secret: "not-this-servers-secret-but-long-enough-0123" });
    await tab.page.goto(`${server.baseUrl}/#token=${forged}`);
    const alert = tab.page.getByRole("alert");
    await alert.waitFor();
    assert.equal(
      await alert.textContent(),
      "This token was refused: The bearer token is invalid. Paste another one, or open the link npm start prints.",
    );
    assert.ok(await tab.page.getByLabel("Bearer token").isVisible());
    assert.equal(tab.page.url(), `${server.baseUrl}/`);
    assert.equal(await storedToken(tab.page), null);
    await screenshot(tab.page, "upload-page-refused");
    // Chromium logs each refused request; nothing else may show up.
    assert.ok(tab.errors.length > 0 && tab.errors.every((e) => /status of 401/.test(e)), tab.errors.join("\n"));
  });

  it("signs in with a pasted token, and signs out again", async () => {
    const name = user("paste");
    await tab.page.goto(`${server.baseUrl}/`);
    await tab.page.getByLabel("Bearer token").fill(await server.token(name));
    await tab.page.getByRole("button", { name: "Sign in" }).click();
    await tab.page.getByRole("heading", { name: "Your uploads" }).waitFor();
    assert.equal(await tab.page.locator(".account strong").textContent(), name);
    await tab.page.getByRole("button", { name: "Sign out" }).click();
    await tab.page.getByRole("heading", { name: "Sign in" }).waitFor();
    assert.equal(await storedToken(tab.page), null);
    assert.deepEqual(tab.errors, []);
  });

  it("answers / with a strict CSP, nosniff and no caching; its hashed assets are cached for a year", async () => {
    const res = await rawRequest(`${server.baseUrl}/`);
    assert.equal(res.status, 200);
    assert.equal(res.headers["content-type"], "text/html; charset=utf-8");
    assert.equal(res.headers["cache-control"], "no-store");
    assert.equal(res.headers["x-content-type-options"], "nosniff");
    assert.equal(res.headers["referrer-policy"], "no-referrer");
    const csp = String(res.headers["content-security-policy"]);
    // Local storage: uploads go to this instance's own /storage/ endpoint, at its base URL.
    assert.equal(csp, contentSecurityPolicy([server.baseUrl]));
    for (const directive of ["default-src 'none'", "script-src 'self' 'wasm-unsafe-eval'", `connect-src 'self' ${server.baseUrl}`, "frame-ancestors 'none'"]) {
      assert.ok(csp.split("; ").includes(directive), `${directive} in ${csp}`);
    }
    // WebAssembly may compile (the SDK's MD5); no inline script or style, no eval of strings.
    assert.deepEqual(csp.match(/'[a-z-]*unsafe-[a-z-]*'/g), ["'wasm-unsafe-eval'"]);

    const assets = assetsOf(res.body.toString());
    assert.equal(assets.length, 2, res.body.toString());
    for (const path of assets) {
      assert.match(path, /^\/page\/(main|styles)-[A-Z0-9]{8}\.(js|css)$/);
      const asset = await rawRequest(`${server.baseUrl}${path}`);
      assert.equal(asset.status, 200, path);
      assert.match(String(asset.headers["content-type"]), path.endsWith(".js") ? /^(text|application)\/javascript/ : /^text\/css/);
      assert.equal(asset.headers["cache-control"], "public, max-age=31536000, immutable");
      assert.equal(asset.headers["x-content-type-options"], "nosniff");
    }
    // Only assets live under /page/: not the HTML (it must never be cached), not a listing.
    for (const path of ["/page/index.html", "/page/"]) {
      assert.equal((await rawRequest(`${server.baseUrl}${path}`)).status, 404, path);
    }
  });

  it("stays out of the OpenAPI document", async () => {
    const paths = Object.keys((await server.api("GET", "/openapi.json")).json<{ paths: object }>().paths);
    assert.deepEqual(paths.filter((p) => p === "/" || p.startsWith("/page")), []);
  });

  it("link mode: takes the link out of the address at once, uploads a file for the link's creator, and says when the link is revoked or not valid", async () => {
    const { page } = tab;
    const creator = user("sender");
    const created = await server.api("POST", "/v1/upload-links", {
      as: creator,
      body: { ownerType: "signed_pdf", expiresInSeconds: 600, maxUses: 2, maxBytesPerUpload: 10_000_000, note: "The signed NDA" },
    });
    assert.equal(created.status, 201, created.body.toString());
    const link = created.json<{ id: string; token: string; url: string }>();
    assert.equal(link.url, `${server.baseUrl}/#link=${link.token}`);

    // Every API call the page makes, with the scheme of its Authorization header.
    const calls: string[] = [];
    page.on("request", (request) => {
      const url = new URL(request.url());
      if (url.origin !== server.baseUrl || !url.pathname.startsWith("/v1/")) return;
      calls.push(`${request.method()} ${url.pathname.replace(/\/v1\/uploads\/[^/]+/, "/v1/uploads/{id}")} ${request.headers().authorization?.split(" ")[0]}`);
    });
    await page.goto(link.url, { waitUntil: "domcontentloaded" });
    // The page's script has run (a module script runs before DOMContentLoaded): the token has left the address.
    assert.equal(await page.evaluate(() => window.location.href), `${server.baseUrl}/`);
    assert.equal(await page.evaluate(() => window.sessionStorage.getItem("stowage.link")), link.token);
    assert.equal(await page.evaluate(() => window.sessionStorage.getItem("stowage.token")), null);

    await page.getByRole("heading", { name: "Send files" }).waitFor();
    await page.getByText("This is an upload link: the files you send here go to whoever sent it to you.").waitFor();
    // What the link takes (its owner type's types, its own narrower size), and nothing of the creator's.
    assert.equal(await page.locator("#owner-type-hint").textContent(), "Accepts: PDF. Up to 10 MB a file.");
    assert.equal(await page.getByLabel("Upload as").isHidden(), true, "one owner type: no chooser");
    for (const absent of [page.getByLabel("Bearer token"), page.getByRole("meter"), page.getByRole("heading", { name: "Your files" }), page.locator("#who *")]) {
      assert.equal(await absent.count(), 0);
    }

    await page.getByLabel("Choose files").setInputFiles({ name: "nda-signed.pdf", mimeType: "application/pdf", buffer: PDF });
    await page.locator(".transfer").getByText("Received: whoever sent you this link has it now.").waitFor();
    await screenshot(page, "upload-page-link-received");
    const listed = (await server.api("GET", "/v1/uploads", { as: creator })).json<{ items: { filename: string; status: string; linkId: string | null }[] }>();
    assert.deepEqual(listed.items.map((u) => [u.filename, u.status, u.linkId]), [["nda-signed.pdf", "confirmed", link.id]]);
    assert.deepEqual(calls, [
      "GET /v1/policies UploadLink",
      "POST /v1/uploads UploadLink",
      "POST /v1/uploads/{id}/confirm UploadLink",
    ], "the link's own calls, each with its token: no list, no quota");
    assert.deepEqual(tab.errors, []);

    // Revoked: the open tab, reloaded, is still in link mode and says so; so does the link's URL opened afresh.
    assert.equal((await server.api("DELETE", `/v1/upload-links/${link.id}`, { as: creator })).status, 204);
    const revoked = "This upload link was withdrawn by whoever sent it, so it takes no more files. Ask them for a new one if you still need to send something.";
    await page.reload();
    await page.getByRole("heading", { name: "This upload link cannot be used" }).waitFor();
    assert.equal(await page.getByRole("alert").textContent(), revoked);
    const fresh = await openPage(browser);
    try {
      await fresh.page.goto(link.url);
      await fresh.page.getByRole("heading", { name: "This upload link cannot be used" }).waitFor();
      assert.equal(await fresh.page.getByRole("alert").textContent(), revoked);
      await screenshot(fresh.page, "upload-page-link-revoked");
      // A token that is no link's: the one message a 401 allows (the server does not say why). In the
      // same tab on purpose: the revoked link's 410 must not answer it from the browser's cache.
      // Only the fragment differs from the open page's address: going there does not load the page again, the reload does.
      await fresh.page.goto(`${server.baseUrl}/#link=not-a-link`);
      await fresh.page.reload();
      await fresh.page.getByRole("heading", { name: "This upload link cannot be used" }).waitFor();
      assert.match((await fresh.page.getByRole("alert").textContent()) ?? "", /^This upload link is not valid\./);
    } finally {
      await fresh.close();
    }
  });
});

describe("the upload page switched off or on S3", () => {
  let build: TestPageBuild;
  before(async () => {
    build = await buildTestPage();
  });
  after(async () => build.remove());

  it("STOWAGE_UPLOAD_PAGE=false: / and the assets are 404s", async () => {
    const server = await startStowage({ STOWAGE_UPLOAD_PAGE: "false" }, { pageDir: build.dir });
    try {
      const root = await rawRequest(`${server.baseUrl}/`);
      assert.equal(root.status, 404);
      assert.equal(root.json().error.code, "NOT_FOUND");
      assert.equal((await rawRequest(`${server.baseUrl}/page/${build.assets["main.js"] ?? ""}`)).status, 404);
      assert.equal(server.runtime.uploadPage, false);
    } finally {
      await server.close();
    }
  });

  it("not built: the server starts all the same, and / is a 404", async () => {
    const server = await startStowage({}, { pageDir: join(build.dir, "missing") });
    try {
      assert.equal(server.runtime.uploadPage, false);
      assert.equal((await rawRequest(`${server.baseUrl}/`)).status, 404);
      assert.equal((await server.api("GET", "/healthz")).status, 200);
    } finally {
      await server.close();
    }
  });

  it("on S3, the page may send uploads to the store's endpoint and nowhere else", async () => {
    const bucket = await tempBucket("stowage-page");
    const env = stowageS3Env(bucket.name);
    const server = await startStowage(env, { pageDir: build.dir });
    try {
      const csp = String((await rawRequest(`${server.baseUrl}/`)).headers["content-security-policy"]);
      const endpoint = new URL(env.STOWAGE_S3_ENDPOINT ?? "").origin;
      assert.ok(csp.split("; ").includes(`connect-src 'self' ${endpoint}`), csp);
      assert.ok(csp.split("; ").includes(`img-src 'self' blob: data: ${endpoint}`), csp);
    } finally {
      await server.close();
      await bucket.drop();
    }
  });
});

describe("the sign-in link `stowage serve` prints (as `npm start` runs it)", () => {
  const children: ChildProcess[] = [];
  const dirs: string[] = [];

  /** Starts `stowage serve` in a fresh data dir; answers its banner and base URL. */
  async function serve(env: Record<string, string>): Promise<{ banner: string; baseUrl: string }> {
    const dataDir = await mkdtemp(join(tmpdir(), "stowage-link-"));
    dirs.push(dataDir);
    const port = await freePort();
    const child = spawnStowage(["serve"], { STOWAGE_DATA_DIR: dataDir, STOWAGE_PORT: String(port), LOG_LEVEL: "warn", ...env });
    children.push(child);
    let banner = "";
    await new Promise<void>((resolve, reject) => {
      child.stderr?.on("data", (c: Buffer) => {
        banner += c;
        if (banner.includes("Try it")) resolve();
      });
      child.on("exit", (code) => reject(new Error(`serve exited ${code}: ${banner}`)));
    });
    return { banner, baseUrl: `http://127.0.0.1:${port}` };
  }

  before(async () => {
    // `serve` serves dist/page/ (what `npm start` builds first): build it the same way.
    await buildPage();
  });
  after(async () => {
    for (const child of children) child.kill("SIGKILL");
    await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
  });

  it("with generated local secrets: a token for alice in the fragment only, which signs the browser in", async () => {
    const { banner, baseUrl } = await serve({});
    const link = /Upload page: +(\S+) +\(signs you in as alice for 12 h\)/.exec(banner)?.[1];
    assert.ok(link !== undefined, banner);
    const url = new URL(link);
    assert.equal(`${url.origin}${url.pathname}`, `${baseUrl}/`);
    assert.equal(url.search, "", "nothing in a query string");
    const token = /^#token=([\w-]+\.[\w-]+\.[\w-]+)$/.exec(url.hash)?.[1];
    assert.ok(token !== undefined, url.hash);
    assert.equal(banner.split(token).length, 2, "the token appears once, in the link");
    const quota = await rawRequest(`${baseUrl}/v1/quota`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(quota.status, 200, quota.body.toString());

    const browser = await launchBrowser();
    try {
      const tab = await openPage(browser);
      await tab.page.goto(link);
      await tab.page.getByRole("heading", { name: "Your uploads" }).waitFor();
      assert.equal(await tab.page.locator(".account strong").textContent(), "alice");
      assert.equal(tab.page.url(), `${baseUrl}/`);
      assert.deepEqual(tab.errors, []);
    } finally {
      await browser.close();
    }
  });

  it("in production (secrets from the environment): the bare address, never a token", async () => {
    const { banner, baseUrl } = await serve({
      NODE_ENV: "production",
      STOWAGE_UPLOAD_PAGE: "true",
      STOWAGE_JWT_SECRET: "production-jwt-secret-that-is-long-enough-0123",
      STOWAGE_SIGNING_SECRET: "production-signing-secret-long-enough-0123",
    });
    assert.match(banner, new RegExp(`Upload page: +${baseUrl}/ +\\(sign in with a token\\)\\n`));
    assert.doesNotMatch(banner, /#token=|eyJ/);
  });
});

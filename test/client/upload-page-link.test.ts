import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, afterEach, before, beforeEach, describe, it } from "node:test";
import type { Browser } from "playwright-core";
import { launchBrowser, openPage, screenshot, type TestPage } from "../helpers/browser.js";
import { PDF } from "../helpers/fixtures.js";
import { buildTestPage, type TestPageBuild } from "../helpers/page.js";
import { startStowage, type TestServer } from "../helpers/server.js";

const user = (name: string) => `${name}-${randomBytes(4).toString("hex")}`;

interface CreatedLink {
  id: string;
  token: string;
  url: string;
}

/**
 * The upload page opened from an upload link's URL (`<baseUrl>/#link=<token>`), as its holder
 * does: no account, the link's owner type only. One test on the embedded default (SQLite + local
 * disk): the server's side of links has its own tests; this is the page's.
 */
describe("the upload page in link mode, in Chromium", () => {
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

  it("takes the link out of the address at once, uploads a file for the link's creator, and says when the link is revoked or not valid", async () => {
    const { page } = tab;
    const creator = user("sender");
    const created = await server.api("POST", "/v1/upload-links", {
      as: creator,
      body: { ownerType: "signed_pdf", expiresInSeconds: 600, maxUses: 2, maxBytesPerUpload: 10_000_000, note: "The signed NDA" },
    });
    assert.equal(created.status, 201, created.body.toString());
    const link = created.json<CreatedLink>();
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

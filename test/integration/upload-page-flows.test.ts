import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, afterEach, before, beforeEach, describe, it } from "node:test";
import type { Browser, Page, Request } from "playwright-core";
import type { PresignAnswer, QuotaAnswer } from "../../src/api/index.js";
import { applyCors, corsRules } from "../../src/storage/s3/cors.js";
import { launchBrowser, openPage, screenshot, type TestPage } from "../helpers/browser.js";
import { gradientPng } from "../helpers/fixtures.js";
import { rawRequest } from "../helpers/http.js";
import { buildTestPage, type TestPageBuild } from "../helpers/page.js";
import { countPutBytes, holdParts, isPartPut, isPresign, partOf } from "../helpers/page-network.js";
import { adminClient } from "../helpers/s3.js";
import { openStoreTo } from "../helpers/store-origin.js";
import { DAY, later, MiB, MP4_HEADER, multipartAlive, objectExists, runSweep, statusOf, SWEEP_BACKENDS, type SweepBackend } from "../helpers/sweep.js";

/** Policy `video` (sweepConfigFile) goes multipart from 5 MiB: this is parts of 5, 5 and 2 MiB. */
const VIDEO_SIZE = 12 * MiB;
const PART = 5 * MiB;
const LAST_PART = VIDEO_SIZE - 2 * PART;
/** Every user's quota here: room for any one test's files, and small enough to run out of on purpose. */
const QUOTA = 20 * MiB;

const user = (name: string) => `${name}-${randomBytes(4).toString("hex")}`;
const md5 = (bytes: Buffer) => createHash("md5").update(bytes).digest("hex");
const video = (size = VIDEO_SIZE) => Buffer.concat([MP4_HEADER, randomBytes(size - MP4_HEADER.length)]);
/** A 1×1 GIF: a real image, of a type the built-in `avatar` does not take. */
const GIF = Buffer.from("R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw==", "base64");
/** A file for `setInputFiles`, from memory. */
const file = (name: string, mimeType: string, buffer: Buffer) => ({ name, mimeType, buffer });
const isStorageOrUploadCall = (request: Request) => request.method() === "PUT" || isPresign(request);

for (const [name, makeBackend] of SWEEP_BACKENDS) describe(`the upload page's flows in Chromium on ${name}`, () => {
  const slug = name.startsWith("SQLite") ? "local" : "s3";
  let build: TestPageBuild;
  let backend: SweepBackend;
  let browser: Browser;
  let tab: TestPage;
  let page: Page;
  let origin: string;
  let dir: string;

  before(async () => {
    build = await buildTestPage();
    dir = await mkdtemp(join(tmpdir(), "stowage-page-flows-"));
    backend = await makeBackend({ STOWAGE_DEFAULT_QUOTA_BYTES: String(QUOTA) }, { pageDir: build.dir });
    browser = await launchBrowser();
    origin = backend.server.baseUrl;
    // As an operator would: the page's origin may PUT to the buckets and read ETags, and public
    // owner types are served from the bucket's own URL (no CDN in front).
    await openStoreTo(backend, origin, { publicPrefixes: ["avatars/"] });
  });
  after(async () => {
    await browser?.close();
    await backend?.close();
    await build?.remove();
    await rm(dir, { recursive: true, force: true });
  });
  beforeEach(async () => {
    tab = await openPage(browser);
    page = tab.page;
  });
  afterEach(async () => tab.close());

  const signIn = async (name: string) => {
    await page.goto(`${origin}/#token=${await backend.server.token(name)}`);
    await page.getByRole("heading", { name: "Your uploads" }).waitFor();
  };
  /** Picks files as a person would: the owner type, then the file dialog (buffers, or paths of files on disk). */
  const pick = async (ownerType: string, ...files: ReturnType<typeof file>[] | string[]) => {
    await page.getByLabel("Upload as").selectOption(ownerType);
    await page.getByLabel("Choose files").setInputFiles(files);
  };
  const transfer = (filename: string) => page.locator(".transfer", { has: page.getByText(filename, { exact: true }) });
  const listed = (filename: string) => page.getByRole("list", { name: "Your files" }).getByRole("listitem").filter({ hasText: filename });
  const quota = async (name: string) => (await backend.server.api("GET", "/v1/quota", { as: name })).json<QuotaAnswer>();
  /** The presign answer the page gets next (call before picking the file). */
  const presigned = async (): Promise<PresignAnswer> => (await (await page.waitForRequest(isPresign)).response())?.json();
  /** The stored bytes of a confirmed upload, fetched the way the page links them. */
  const downloaded = async (name: string, id: string) => {
    const { url } = (await backend.server.api("GET", `/v1/uploads/${id}/download`, { as: name })).json<{ url: string }>();
    return (await rawRequest(url)).body;
  };
  /** Every presign and PUT the page sends from now on: none is what "before any byte moves" means. */
  const uploadCalls = () => {
    const calls: string[] = [];
    page.on("request", (request) => {
      if (isStorageOrUploadCall(request)) calls.push(`${request.method()} ${request.url()}`);
    });
    return calls;
  };
  /**
   * A video written to disk and picked by its path, as a person picks one. (Handed over as a
   * buffer, its bytes cross the DevTools pipe as base64 and are rebuilt in the page: on a loaded
   * machine that ate the 30 s a test waits for its first part.)
   */
  const onDisk = async (filename: string, bytes: Buffer) => {
    const path = join(dir, filename);
    await writeFile(path, bytes);
    return path;
  };
  const onlyUpload = async (name: string) => {
    const page1 = (await backend.server.api("GET", "/v1/uploads", { as: name })).json<{ items: { id: string; status: string }[] }>();
    assert.equal(page1.items.length, 1, JSON.stringify(page1.items));
    return page1.items[0] ?? assert.fail();
  };

  it("uploads a PNG with visible progress, lists it with a preview that loads, and deletes it; the quota follows", async () => {
    const name = user("png");
    const png = gradientPng(96, 64, 1_500_000);
    await signIn(name);
    // Slow the uplink (Chromium's own throttling: no request is intercepted) so progress shows.
    const cdp = await tab.context.newCDPSession(page);
    await cdp.send("Network.emulateNetworkConditions", { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: MiB });
    await pick("avatar", file("sunset.png", "image/png", png));

    const bar = page.getByRole("progressbar", { name: "sunset.png" });
    await page.waitForFunction(() => {
      const progress = document.querySelector("progress");
      return progress !== null && progress.value > 0 && progress.value < progress.max;
    });
    const percent = Number(/(\d+) %/.exec((await transfer("sunset.png").locator(".percent").textContent()) ?? "")?.[1]);
    assert.ok(percent >= 0 && percent < 100, `mid-upload: ${percent} %`);
    assert.equal(await transfer("sunset.png").getByRole("status").textContent(), "Uploading…");
    assert.match((await transfer("sunset.png").locator(".sent").textContent()) ?? "", /^\d+(\.\d)? (bytes|KiB|MiB) of 1\.4 MiB$/);
    assert.equal(await transfer("sunset.png").locator("img.thumb").evaluate((img: HTMLImageElement) => img.src.startsWith("blob:")), true);
    await screenshot(page, `upload-page-flows-${slug}-progress`);

    await transfer("sunset.png").getByText("Uploaded.").waitFor();
    assert.equal(await bar.isHidden(), true, "the bar goes once the upload is done");
    const item = listed("sunset.png");
    const preview = item.getByRole("img", { name: "Preview of sunset.png" });
    await preview.waitFor();
    await page.waitForFunction(() => {
      const img = document.querySelector<HTMLImageElement>(".files img");
      return img !== null && img.complete && img.naturalWidth > 0;
    });
    assert.equal(await preview.evaluate((img: HTMLImageElement) => img.naturalWidth), 96);
    const href = await item.getByRole("link", { name: "sunset.png" }).getAttribute("href");
    assert.ok(href !== null && (await rawRequest(href)).body.equals(png), "the link serves the bytes that were picked");
    assert.match((await item.locator(".meta").textContent()) ?? "", /^PNG image · 1\.4 MiB · avatar · /);
    assert.equal(await page.locator("#quota-user-text").textContent(), "1.4 MiB of 20 MiB used · 19 MiB free");
    assert.equal((await quota(name)).usedBytes, png.length);
    await screenshot(page, `upload-page-flows-${slug}-uploaded`);

    await item.getByRole("button", { name: "Delete sunset.png" }).click();
    await page.getByText("Nothing here yet").waitFor();
    await page.getByText("0 bytes of 20 MiB used · 20 MiB free").waitFor();
    assert.equal((await quota(name)).usedBytes, 0);
    assert.deepEqual(tab.errors, []);
  });

  it("uploads several files dropped on the drop zone, each with its own progress bar", async () => {
    const name = user("drop");
    await signIn(name);
    await page.getByLabel("Upload as").selectOption("document");
    const images = [gradientPng(40, 30), gradientPng(30, 40)];
    await page.locator(".drop-zone").drop({ files: images.map((bytes, i) => file(`scan-${i + 1}.png`, "image/png", bytes)) });
    assert.equal(await page.getByRole("progressbar").count(), 2);
    for (const filename of ["scan-1.png", "scan-2.png"]) {
      await transfer(filename).getByText("Uploaded.").waitFor();
      await listed(filename).getByRole("img", { name: `Preview of ${filename}` }).waitFor();
    }
    await page.waitForFunction(() => [...document.querySelectorAll<HTMLImageElement>(".files img")].every((i) => i.complete && i.naturalWidth > 0));
    assert.equal((await quota(name)).usedBytes, images.reduce((sum, image) => sum + image.length, 0));
    assert.deepEqual(tab.errors, []);
  });

  it("refuses a 6 MB avatar before any byte moves, naming both sizes", async () => {
    await signIn(user("big"));
    const calls = uploadCalls();
    await pick("avatar", file("huge.png", "image/png", gradientPng(20, 20, 6_000_000)));
    const alert = transfer("huge.png").getByRole("alert");
    await alert.waitFor();
    assert.equal(await alert.textContent(), "huge.png is 6 MB, but avatar files may be at most 5 MB.");
    assert.equal(await transfer("huge.png").getByRole("status").textContent(), "Not uploaded.");
    assert.equal(await transfer("huge.png").getByRole("button", { name: "Try huge.png again" }).isHidden(), true, "no use trying again");
    assert.deepEqual(calls, [], "no presign, no PUT");
    await screenshot(page, `upload-page-flows-${slug}-too-big`);
  });

  it("refuses files of types the owner type does not take before any byte moves, naming the types it takes", async () => {
    const name = user("type");
    await signIn(name);
    const calls = uploadCalls();
    await pick("avatar", file("party.gif", "image/gif", GIF), file("notes.txt", "text/plain", Buffer.from("Remember the milk.\n")));
    const takes = "It takes: JPEG image (image/jpeg), PNG image (image/png).";
    for (const [filename, sentence] of [
      ["party.gif", `party.gif is a GIF image (image/gif), which avatar does not take. ${takes}`],
      ["notes.txt", `notes.txt is a text file (text/plain), which avatar does not take. ${takes}`],
    ] as const) {
      const alert = transfer(filename).getByRole("alert");
      await alert.waitFor();
      assert.equal(await alert.textContent(), sentence);
      assert.equal(await transfer(filename).getByRole("status").textContent(), "Not uploaded.");
      assert.equal(await transfer(filename).getByRole("button", { name: `Try ${filename} again` }).isHidden(), true, "no use trying again");
    }
    assert.deepEqual(calls, [], "no presign, no PUT");
    assert.deepEqual(await quota(name), { usedBytes: 0, reservedBytes: 0, limitBytes: QUOTA, pendingUploads: 0 });
    await screenshot(page, `upload-page-flows-${slug}-wrong-type`);
  });

  it("refuses a file whose bytes are not what it claims at confirm, and says why", async () => {
    const name = user("spoof");
    await signIn(name);
    await pick("avatar", file("cat.png", "image/png", Buffer.from("This is a text file, whatever its name says.\n".repeat(20))));
    const alert = transfer("cat.png").getByRole("alert");
    await alert.waitFor();
    assert.equal(
      await alert.textContent(),
      "cat.png was refused: its content is not a PNG image (image/png). " +
      "The server checks what is really in a file, not its name or the type it claims. It was not kept.",
    );
    const upload = await onlyUpload(name);
    assert.equal((await statusOf(backend.server, name, upload.id)).rejection?.code, "CONTENT_TYPE_MISMATCH");
    assert.deepEqual(await quota(name), { usedBytes: 0, reservedBytes: 0, limitBytes: QUOTA, pendingUploads: 0 });
    await page.getByText("Nothing here yet").waitFor();
    await screenshot(page, `upload-page-flows-${slug}-spoofed`);
  });

  it("explains a refusal over quota with the figures", async () => {
    const name = user("full");
    // 19 MiB held by an upload in progress (started elsewhere): 1 MiB free.
    const held = await backend.server.api("POST", "/v1/uploads", {
      as: name,
      body: { ownerType: "video", filename: "holiday.mp4", contentType: "video/mp4", size: 19 * MiB },
    });
    assert.equal(held.status, 201, held.body.toString());
    await signIn(name);
    assert.match((await listed("holiday.mp4").textContent()) ?? "", /Unfinished · 19 MiB held · video/);
    await pick("document", file("scan.png", "image/png", gradientPng(30, 30, 1.5 * MiB)));
    const alert = transfer("scan.png").getByRole("alert");
    await alert.waitFor();
    assert.equal(
      await alert.textContent(),
      "Not enough space for scan.png (1.5 MiB): you use 0 bytes of your 20 MiB, and uploads in progress hold 19 MiB, " +
      "so 1 MiB is free. Delete some files to make room.",
    );
    await screenshot(page, `upload-page-flows-${slug}-over-quota`);
    // Deleting the unfinished upload frees its space: the same file then goes through.
    await listed("holiday.mp4").getByRole("button", { name: "Delete holiday.mp4" }).click();
    await page.getByText("0 bytes of 20 MiB used · 20 MiB free").waitFor();
    await transfer("scan.png").getByRole("button", { name: "Try scan.png again" }).click();
    await transfer("scan.png").getByText("Uploaded.").waitFor();
  });

  it("completes a multipart upload through failed part requests (a 503, a dropped connection), saying it retries", async () => {
    const name = user("flaky");
    const bytes = video();
    await signIn(name);
    const tries = new Map<number, number>();
    let letRetriesThrough = () => {};
    const retriesMayGo = new Promise<void>((resolve) => (letRetriesThrough = resolve));
    await page.route((url) => partOf(url) !== undefined, async (route) => {
      const request = route.request();
      const part = partOf(request.url()) ?? 0;
      if (request.method() !== "PUT") return route.fallback();
      const attempt = (tries.get(part) ?? 0) + 1;
      tries.set(part, attempt);
      if (part === 1 && attempt === 1) {
        // What an overloaded store answers (with the CORS headers a real one sends along).
        return route.fulfill({
          status: 503,
          headers: { "access-control-allow-origin": origin, "content-type": "application/xml" },
          body: "<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>",
        });
      }
      if (part === 2 && attempt === 1) return route.abort("connectionreset");
      // The second tries wait until the page has said it is retrying.
      if (attempt > 1) await retriesMayGo;
      return route.continue();
    });
    await pick("video", await onDisk("clip.mp4", bytes));
    await transfer("clip.mp4").getByText(/^Network trouble \((HTTP 503|connection failed)\): retrying part [12]…$/).waitFor();
    await screenshot(page, `upload-page-flows-${slug}-retrying`);
    letRetriesThrough();
    await transfer("clip.mp4").getByText("Uploaded (2 retries after network trouble).").waitFor();
    assert.deepEqual([...tries].sort(), [[1, 2], [2, 2], [3, 1]]);
    await listed("clip.mp4").waitFor();
    const upload = await onlyUpload(name);
    assert.equal(md5(await downloaded(name, upload.id)), md5(bytes), "the stored object is the file, byte for byte");
  });

  it("pauses a multipart upload and resumes it from the parts storage holds, sending only the rest", async () => {
    const name = user("pause");
    const bytes = video();
    await signIn(name);
    // Throttled by Chromium itself, no interception: the store's real CORS preflights and ETag exposure.
    const cdp = await tab.context.newCDPSession(page);
    await cdp.send("Network.emulateNetworkConditions", { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: 2 * MiB });
    const firstPartStored = page.waitForResponse((response) => isPartPut(response.request()) && response.ok());
    const answer = presigned();
    await pick("video", await onDisk("talk.mp4", bytes));
    const { id } = await answer;
    await firstPartStored;
    await transfer("talk.mp4").getByRole("button", { name: "Pause talk.mp4" }).click();
    await transfer("talk.mp4").getByText("Paused. Resume continues from the parts storage already holds.").waitFor();
    const stored = (await backend.server.api("GET", `/v1/uploads/${id}/parts`, { as: name })).json<{ parts: { size: number }[] }>().parts;
    const storedBytes = stored.reduce((sum, p) => sum + p.size, 0);
    assert.ok(stored.length >= 1 && stored.length < 3, `mid-upload: ${stored.length} of 3 parts stored`);
    await screenshot(page, `upload-page-flows-${slug}-paused`);

    await cdp.send("Network.emulateNetworkConditions", { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
    const sent = countPutBytes(page);
    await transfer("talk.mp4").getByRole("button", { name: "Resume talk.mp4" }).click();
    await transfer("talk.mp4").getByText("Uploaded (resumed from the parts storage already held).").waitFor();
    assert.equal(await sent.total(), VIDEO_SIZE - storedBytes, "only the parts storage lacked were sent");
    assert.equal((await onlyUpload(name)).id, id, "the same upload, not a new one");
    assert.equal(md5(await downloaded(name, id)), md5(bytes));
    assert.deepEqual(tab.errors, []);
  });

  it("resumes after a reload mid-upload from the parts storage holds: fewer bytes the second time", async () => {
    const name = user("reload");
    const bytes = video();
    await signIn(name);
    const gate = await holdParts(page, [1, 2]);
    const lastPartStored = page.waitForResponse((response) => partOf(response.url()) === 3 && response.ok());
    const answer = presigned();
    // A file on disk, as a person picks it: the same file after the reload (name, size, type and
    // modification time are what the SDK's resume store recognizes it by).
    const path = join(dir, "lecture.mp4");
    await writeFile(path, bytes);
    await pick("video", path);
    const { id } = await answer;
    await lastPartStored;

    await page.reload();
    await page.getByRole("heading", { name: "Your uploads" }).waitFor();
    await gate.release();
    // The list knows the upload is unfinished and says how to go on.
    const unfinished = listed("lecture.mp4");
    assert.match((await unfinished.textContent()) ?? "", /Unfinished · 12 MiB held · video.*Pick the same file again to resume it/);
    const sent = countPutBytes(page);
    await pick("video", path);
    await transfer("lecture.mp4").getByText("Uploaded (resumed from the parts storage already held).").waitFor();
    const second = await sent.total();
    assert.equal(second, 2 * PART, "parts 1 and 2 only: part 3 was stored before the reload");
    assert.ok(second < VIDEO_SIZE);
    assert.equal((await onlyUpload(name)).id, id);
    assert.equal(md5(await downloaded(name, id)), md5(bytes));
    await screenshot(page, `upload-page-flows-${slug}-resumed`);
  });

  it("cancels a multipart upload mid-way and leaves nothing behind: no object, no parts, no pending row after a sweep", async () => {
    const name = user("cancel");
    await signIn(name);
    const gate = await holdParts(page, [1, 2]);
    const lastPartStored = page.waitForResponse((response) => partOf(response.url()) === 3 && response.ok());
    const answer = presigned();
    await pick("video", await onDisk("draft.mp4", video()));
    const presign = await answer;
    await lastPartStored;
    assert.equal(presign.kind, "multipart");
    const storeUploadId = new URL(presign.kind === "multipart" ? presign.multipart.parts[0]?.url ?? "" : "").searchParams.get("uploadId") ?? "";
    const record = await backend.server.runtime.store.findUpload(presign.id);
    assert.ok(record?.staging !== undefined);

    await transfer("draft.mp4").getByRole("button", { name: "Cancel draft.mp4" }).click();
    await transfer("draft.mp4").getByText("Cancelled: nothing was kept.").waitFor();
    await gate.release();
    await page.getByText("0 bytes of 20 MiB used · 20 MiB free").waitFor();
    assert.equal(await page.getByText("0 uploads in progress").count(), 1);

    assert.equal(await multipartAlive(backend, "staging/", storeUploadId), false, "the multipart upload and its parts are gone");
    assert.equal(await objectExists(backend.server, record.staging.bucket, record.staging.key), false);
    assert.equal(await objectExists(backend.server, record.bucket, record.key), false);
    // A sweep a day later finds nothing of it to clean: no abandoned pending row, no orphan, no
    // parts. (Its staging key is forgotten by the staging job, as for every settled upload: a no-op delete.)
    const { events } = await runSweep(backend.server, { now: later(DAY) });
    const mine = events.filter((e) => e.uploadId === presign.id || e.key === record.key || e.key === record.staging?.key);
    assert.deepEqual(mine.filter((e) => e.job !== "staging").map((e) => `${e.job} ${e.action} ${e.key}`), []);
    assert.equal((await statusOf(backend.server, name, presign.id)).status, "deleted");
    assert.equal(await objectExists(backend.server, record.staging.bucket, record.staging.key), false);
    assert.deepEqual(await quota(name), { usedBytes: 0, reservedBytes: 0, limitBytes: QUOTA, pendingUploads: 0 });
  });

  it("refuses a part whose bytes changed on the way (Content-MD5), and says so", async () => {
    const name = user("corrupt");
    const bytes = video();
    await signIn(name);
    let corrupted = 0;
    await page.route((url) => partOf(url) === 3, async (route) => {
      if (route.request().method() !== "PUT") return route.fallback();
      // The same length, one byte flipped: only the digest can tell.
      const body = Buffer.from(bytes.subarray(2 * PART));
      const at = LAST_PART >> 1;
      body.writeUInt8(body.readUInt8(at) ^ 0xff, at);
      corrupted += 1;
      return route.continue({ postData: body });
    });
    await pick("video", await onDisk("scene.mp4", bytes));
    const alert = transfer("scene.mp4").getByRole("alert");
    await alert.waitFor();
    assert.equal(
      await alert.textContent(),
      "scene.mp4 was damaged on the way: the bytes that reached storage were not the ones sent (their checksum did not match), " +
      "so storage refused them and kept nothing. Try again; if it happens again, something between you and the server is altering uploads.",
    );
    assert.equal(corrupted, 1, "a refusal is not retried");
    await screenshot(page, `upload-page-flows-${slug}-corrupted`);

    // The upload stays pending with what storage took: trying again resumes it (no second reservation).
    await page.unrouteAll({ behavior: "ignoreErrors" });
    await transfer("scene.mp4").getByRole("button", { name: "Try scene.mp4 again" }).click();
    await transfer("scene.mp4").getByText(/^Uploaded \(resumed from the parts storage already held\)\./).waitFor();
    assert.deepEqual(await quota(name), { usedBytes: VIDEO_SIZE, reservedBytes: 0, limitBytes: QUOTA, pendingUploads: 0 });
    assert.equal(md5(await downloaded(name, (await onlyUpload(name)).id)), md5(bytes));
  });

  if (slug === "s3") {
    it("names the fix when the bucket's CORS rules hide ETag (a multipart upload cannot complete)", async () => {
      const media = backend.s3?.media ?? "";
      const admin = adminClient();
      await applyCors(admin, media, corsRules([origin]).map((rule) => ({ ...rule, ExposeHeaders: [] })));
      try {
        await signIn(user("cors"));
        await pick("video", await onDisk("hidden.mp4", video(6 * MiB)));
        const alert = transfer("hidden.mp4").getByRole("alert");
        await alert.waitFor();
        assert.equal(
          await alert.textContent(),
          "hidden.mp4 reached storage, but the upload cannot be finished: the storage's CORS rules hide the ETag header that " +
          `completing an upload needs. Whoever runs this server must run: stowage storage cors --origin ${origin}`,
        );
        await screenshot(page, `upload-page-flows-${slug}-cors`);
      } finally {
        await applyCors(admin, media, corsRules([origin]));
        admin.destroy();
      }
    });
  }
});

/**
 * The Uppy plugin and the React hook in real Chromium against the real server, on the embedded
 * default (SQLite + local disk) and on PostgreSQL + Ceph RGW (its CORS set for the pages' origin
 * by `stowage storage cors`, so the browser itself enforces it and ETag exposure), the pages on
 * an origin of their own: an Uppy 6 Dashboard driven by clicks and a file input, and a React 19
 * page in StrictMode.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { Browser, Page } from "playwright-core";
import { png } from "../helpers/fixtures.js";
import type { TestServer } from "../helpers/server.js";
import { openStoreTo, storageUrls } from "../helpers/store-origin.js";
import { MiB, MP4_HEADER, SWEEP_BACKENDS, type SweepBackend } from "../helpers/sweep.js";
import { type BuiltPages, buildPages, launchChromium, openPage, type TestPage } from "./page-harness.js";
import type { PageConfig } from "./pages/page-config.js";

/**
 * A 12 MiB MP4 written to disk, picked by its path: Chromium reads it from there. (Handed over as
 * a buffer, its bytes cross the DevTools pipe as base64 and are rebuilt in the page, which on a
 * loaded machine took setInputFiles past its 30 s.)
 */
let videoDir: string;
const videoFile = async (name: string) => {
  const path = join(videoDir, name);
  await writeFile(path, Buffer.concat([MP4_HEADER, randomBytes(VIDEO_SIZE - MP4_HEADER.length)]));
  return path;
};
const VIDEO_SIZE = 12 * MiB; // three parts: 5 + 5 + 2 MiB
/** Slow enough to click midway through a 12 MiB upload, fast enough to finish in seconds. */
const THROTTLE = 3 * MiB;

type Upload = { id: string; status: string; size: number; ownerType: string };

/** Polls until `check` passes (the server's side of an abort lands a moment after the click). */
async function eventually<T>(what: string, read: () => Promise<T>, check: (value: T) => boolean, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (check(value)) return value;
    if (Date.now() > deadline) assert.fail(`${what}: still ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The ids the page was handed by presign (POST /v1/uploads), in order. */
function presignedIds(page: Page): string[] {
  const ids: string[] = [];
  page.on("response", (response) => {
    if (response.request().method() === "POST" && new URL(response.url()).pathname === "/v1/uploads" && response.ok()) {
      response.json().then((body: { id: string }) => ids.push(body.id), () => undefined);
    }
  });
  return ids;
}

/** The part numbers of multipart PUTs the page sends from now on. */
function partPuts(page: Page): number[] {
  const parts: number[] = [];
  page.on("request", (request) => {
    const part = new URL(request.url()).searchParams.get("partNumber");
    if (request.method() === "PUT" && part !== null) parts.push(Number(part));
  });
  return parts;
}

// One bundle of the pages and one Chromium for both backends.
let pages: BuiltPages;
let browser: Browser;
before(async () => {
  [pages, browser, videoDir] = await Promise.all([
    buildPages(["uppy-dashboard.ts", "react-upload.tsx"]), launchChromium(), mkdtemp(join(tmpdir(), "stowage-uppy-react-")),
  ]);
});
after(async () => {
  await browser?.close();
  await pages?.close();
  await rm(videoDir, { recursive: true, force: true });
});

for (const [backendName, makeBackend] of SWEEP_BACKENDS) describe(`Uppy and React in Chromium on ${backendName}`, () => {
  const slug = backendName.startsWith("SQLite") ? "local" : "s3";
  let backend: SweepBackend;
  let server: TestServer;
  const open: TestPage[] = [];

  before(async () => {
    // The pages' origin is another than the server's: its CORS lets them in, and on S3 the
    // buckets' CORS (set as an operator would) lets them PUT and read ETags.
    backend = await makeBackend({ STOWAGE_CORS_ORIGINS: pages.origin, STOWAGE_DEFAULT_QUOTA_BYTES: String(200 * MiB) });
    server = backend.server;
    await openStoreTo(backend, pages.origin);
  });
  after(async () => {
    await Promise.all(open.map((p) => p.close().catch(() => undefined)));
    await backend?.close();
  });

  const openAs = async (user: string, entry: string, extra: { query?: string } & Omit<PageConfig, "baseUrl" | "token"> = {}) => {
    const { query, ...config } = extra;
    const page = await openPage(browser, pages, {
      entry,
      config: { baseUrl: server.baseUrl, token: await server.token(user), ...config },
      ...(query === undefined ? {} : { query }),
    });
    open.push(page);
    return page;
  };
  const uploadsOf = async (user: string): Promise<Upload[]> => (await server.api("GET", "/v1/uploads", { as: user })).json().items;
  const uploadOf = async (user: string, id: string): Promise<Upload> => (await server.api("GET", `/v1/uploads/${id}`, { as: user })).json();
  const quotaOf = async (user: string) => (await server.api("GET", "/v1/quota", { as: user })).json();
  const eventsOf = async (p: TestPage, type: string) => (await p.events()).filter((e) => e.type === type);

  describe("StowageUploader in an Uppy Dashboard", () => {
    const addFiles = (p: TestPage, files: { name: string; mimeType: string; buffer: Buffer }[] | string[]) =>
      p.page.locator("input.uppy-Dashboard-input[type=file]").first().setInputFiles(files);
    const clickUpload = (p: TestPage) => p.page.locator(".uppy-StatusBar-actionBtn--upload").click();
    /** Waits until `name` (not an earlier file of the same page) has sent `bytes`. */
    const progressOver = (p: TestPage, name: string, bytes: number) =>
      p.page.waitForFunction(
        ([file, min]) => window.testEvents.some((e) => e.type === "upload-progress" && e.name === file && (e.bytesUploaded as number) >= min),
        [name, bytes] as const,
      );

    it("uploads a PNG: upload-success carries the confirmed upload, and the server lists it confirmed", async () => {
      const p = await openAs("uppy-ann", "uppy-dashboard");
      await addFiles(p, [{ name: "pixel.png", mimeType: "image/png", buffer: png(40_000) }]);
      await clickUpload(p);
      await p.page.waitForFunction(() => window.testEvents.some((e) => e.type === "complete"));
      const [success] = await eventsOf(p, "upload-success");
      const body = success?.body as Upload & { url: string; filename: string };
      assert.equal(body.status, "confirmed");
      assert.equal(body.ownerType, "story");
      assert.equal(body.filename, "pixel.png");
      assert.equal(success?.uploadURL, body.url);
      assert.deepEqual((success?.state as { status: string }).status, "confirmed");
      const listed = await uploadsOf("uppy-ann");
      assert.deepEqual(listed.map((u) => [u.id, u.status, u.size]), [[body.id, "confirmed", 40_000]]);
      await p.page.getByText("Complete", { exact: true }).waitFor();
      await p.screenshot(`uppy-dashboard-success-${slug}`);
      assert.deepEqual(p.consoleErrors, []);
    });

    it("shows refusals with a sentence a person understands: too large, wrong type, and the server's own", async () => {
      const p = await openAs("uppy-refused", "uppy-dashboard");
      await addFiles(p, [
        { name: "huge.png", mimeType: "image/png", buffer: png(1_500_000) },
        { name: "anim.gif", mimeType: "image/gif", buffer: Buffer.from("GIF89a\x01\x00\x01\x00\x00\x00\x00;", "latin1") },
        // Named and typed a PNG, but its bytes are text: the server refuses it at confirm.
        { name: "fake.png", mimeType: "image/png", buffer: Buffer.from("not a picture at all, just some text") },
      ]);
      await clickUpload(p);
      await p.page.waitForFunction(() => window.testEvents.some((e) => e.type === "complete"));
      const errorEvents = await eventsOf(p, "upload-error");
      assert.deepEqual(errorEvents.map((e) => e.name).sort(), ["anim.gif", "fake.png", "huge.png"]);
      const errors = Object.fromEntries(errorEvents.map((e) => [e.name, e]));
      assert.equal(errors["huge.png"]?.message, "This file is 1.5 MB; the limit is 1 MB.");
      assert.equal(errors["huge.png"]?.code, "FILE_TOO_LARGE");
      assert.equal(errors["anim.gif"]?.message, "image/gif files are not accepted here (allowed: image/png).");
      assert.equal(errors["anim.gif"]?.kind, "refused");
      assert.equal(errors["fake.png"]?.code, "CONTENT_TYPE_MISMATCH");
      assert.match(errors["fake.png"]?.message as string, /^Refused: /);
      // The figures stay in the file's state (and as the emitted error's cause).
      assert.deepEqual((errors["huge.png"]?.state as { error: { details: unknown } }).error.details, { size: 1_500_000, maxBytes: 1_000_000 });
      // The Dashboard puts each file's message on its card's "?" (an alert on click), and in its
      // "Failed to upload …" notice's "?" (a tooltip on hover).
      await p.page.getByRole("button", { name: "This file is 1.5 MB; the limit is 1 MB." }).waitFor();
      await p.page.getByRole("button", { name: "image/gif files are not accepted here (allowed: image/png)." }).waitFor();
      await p.page.getByText("Upload failed").first().waitFor();
      // (Pointed at rather than hovered: the notices' fade-in keeps Playwright's hover waiting.)
      const notice = await p.page.locator(".uppy-Informer [role=tooltip][aria-label='This file is 1.5 MB; the limit is 1 MB.']").first().boundingBox();
      if (notice !== null) await p.page.mouse.move(notice.x + notice.width / 2, notice.y + notice.height / 2);
      await p.page.waitForTimeout(400); // the tooltip fades in
      await p.screenshot(`uppy-dashboard-refusals-${slug}`);
      // Nothing is left pending; the fake PNG is recorded as rejected.
      assert.deepEqual((await uploadsOf("uppy-refused")).map((u) => u.status), ["rejected"]);
      assert.equal((await quotaOf("uppy-refused")).pendingUploads, 0);
      // Uppy logs each upload error itself, and Chromium logs the refused confirm's answer.
      const unexpected = p.consoleErrors.filter((text) => !/^\[Uppy\].*(1\.5 MB|image\/gif|Refused)|status of 415/.test(text));
      assert.deepEqual(unexpected, []);
    });

    it("tells Uppy of each transfer retry, fails with a network error, and retryAll then uploads it", async () => {
      const p = await openAs("uppy-retry", "uppy-dashboard", { retry: { retries: 2, minDelayMs: 20, maxDelayMs: 50 } });
      // The store cannot be reached: every PUT fails at the network level.
      const storage = storageUrls(backend);
      await p.context.route(storage, (route) => route.abort("connectionreset"));
      await addFiles(p, [{ name: "flaky.png", mimeType: "image/png", buffer: png(30_000) }]);
      await clickUpload(p);
      await p.page.waitForFunction(() => window.testEvents.some((e) => e.type === "upload-error"));
      const retries = await eventsOf(p, "upload-retry");
      assert.deepEqual(retries.map((e) => (e.retry as { attempt: number }).attempt), [1, 2]);
      const [failure] = await eventsOf(p, "upload-error");
      assert.equal(failure?.kind, "network");
      assert.match(failure?.message as string, /^The upload could not get through: Uploading the file failed 3 times.*retry\.$/);
      await p.context.unroute(storage);
      await p.page.locator(".uppy-StatusBar-actionBtn--retry").click();
      await p.page.waitForFunction(() => window.testEvents.some((e) => e.type === "upload-success"));
      const listed = await uploadsOf("uppy-retry");
      assert.equal(listed.filter((u) => u.status === "confirmed").length, 1);
      const unexpected = p.consoleErrors.filter((text) => !/ERR_CONNECTION_RESET|^\[Uppy\].*could not get through/.test(text));
      assert.deepEqual(unexpected, []);
    });

    it("pauses a multipart upload and resumes it from the parts the store kept", async () => {
      const p = await openAs("uppy-pause", "uppy-dashboard", { partConcurrency: 1 });
      const ids = presignedIds(p.page);
      await p.throttleUpload(THROTTLE);
      await addFiles(p, [await videoFile("clip.mp4")]);
      const parts = partPuts(p.page);
      await clickUpload(p);
      // Parts go one at a time: past 6 MiB, part 1 (5 MiB) is stored and part 2 is on its way
      // (or, on a loaded machine, already stored by the time the click lands).
      await progressOver(p, "clip.mp4", 6 * MiB);
      await p.page.getByRole("button", { name: "Pause upload" }).click();
      await p.page.getByRole("button", { name: "Resume upload" }).waitFor();
      await p.page.waitForFunction(() => window.testEvents.some((e) => e.type === "upload-pause"));
      await p.screenshot(`uppy-dashboard-paused-${slug}`);
      const paused = await uploadsOf("uppy-pause");
      assert.deepEqual(paused.map((u) => u.status), ["pending"], "the pending upload stays while paused");
      const held = await server.api("GET", `/v1/uploads/${ids[0] as string}/parts`, { as: "uppy-pause" });
      const stored = (held.json().parts as { partNumber: number }[]).map((part) => part.partNumber);
      assert.deepEqual(stored.slice(0, 1), [1], "part 1 was stored before the pause");
      const sentBefore = parts.length;
      await p.page.getByRole("button", { name: "Resume upload" }).click();
      await p.page.waitForFunction(() => window.testEvents.some((e) => e.type === "upload-success"));
      const [success] = await eventsOf(p, "upload-success");
      const body = success?.body as Upload & { resumed: boolean };
      assert.equal(body.resumed, true);
      assert.equal(body.size, VIDEO_SIZE);
      assert.deepEqual(parts.slice(0, 2), [1, 2]);
      const missing = [1, 2, 3].filter((n) => !stored.includes(n));
      const retries = await eventsOf(p, "upload-retry");
      assert.deepEqual(parts.slice(sentBefore), missing, `after resuming, only the parts the store lacked (${stored.join(", ")} held; retries: ${JSON.stringify(retries)})`);
      assert.deepEqual((await uploadsOf("uppy-pause")).map((u) => u.status), ["confirmed"]);
      assert.deepEqual(p.consoleErrors, []);
    });

    it("cancel deletes the pending upload, whether running or paused", async () => {
      const p = await openAs("uppy-cancel", "uppy-dashboard");
      const ids = presignedIds(p.page);
      await p.throttleUpload(THROTTLE);
      await addFiles(p, [await videoFile("first.mp4")]);
      await clickUpload(p);
      await progressOver(p, "first.mp4", 2 * MiB);
      await p.page.locator("[data-cy=cancel]").click();
      await eventually("the running upload", () => uploadOf("uppy-cancel", ids[0] as string), (u) => u.status === "deleted");

      // Paused, no transfer runs to see the abort: the plugin deletes the pending upload itself.
      await addFiles(p, [await videoFile("second.mp4")]);
      await clickUpload(p);
      // (Waiting on the first file's progress here paused the second before its presign.)
      await progressOver(p, "second.mp4", 2 * MiB);
      await p.page.getByRole("button", { name: "Pause upload" }).click();
      await p.page.getByRole("button", { name: "Resume upload" }).waitFor();
      await eventually("the second presign", () => Promise.resolve(ids.length), (n) => n === 2);
      assert.equal((await uploadOf("uppy-cancel", ids[1] as string)).status, "pending");
      await p.page.locator(".uppy-Dashboard-Item-action--remove").click();
      await eventually("the paused upload", () => uploadOf("uppy-cancel", ids[1] as string), (u) => u.status === "deleted");
      assert.deepEqual(await uploadsOf("uppy-cancel"), []);
      const quota = await quotaOf("uppy-cancel");
      assert.deepEqual([quota.pendingUploads, quota.usedBytes], [0, 0]);
      assert.deepEqual((await p.events()).filter((e) => e.type === "upload-error"), []);
      assert.deepEqual(p.consoleErrors, []);
    });
  });

  describe("useUpload in a React page (StrictMode)", () => {
    const status = (p: TestPage) => p.page.getByLabel("Status");

    it("uploads a file, shows its progress and the done state", async () => {
      const p = await openAs("react-ann", "react-upload");
      await p.throttleUpload(THROTTLE);
      await p.page.getByLabel("File").setInputFiles({ name: "me.png", mimeType: "image/png", buffer: png(2_000_000) });
      await p.page.getByLabel("Result").waitFor();
      assert.equal(await status(p).textContent(), "done");
      assert.equal(await p.page.getByLabel("Percent").textContent(), "100%");
      const states = (await eventsOf(p, "state")) as { status: string; fraction: number }[];
      const uploading = states.filter((s) => s.status === "uploading").map((s) => s.fraction);
      assert.ok(uploading.filter((f) => f > 0 && f < 1).length >= 2, `progress was shown midway: ${JSON.stringify(states)}`);
      assert.deepEqual(uploading, [...uploading].sort((a, b) => a - b), "progress only grows");
      assert.deepEqual(states.at(-1), { type: "state", status: "done", fraction: 1 });
      const [resolved] = await eventsOf(p, "resolved");
      const listed = await uploadsOf("react-ann");
      assert.deepEqual(listed.map((u) => [u.id, u.status, u.ownerType]), [[resolved?.id, "confirmed", "avatar"]]);
      await p.screenshot(`react-done-${slug}`);
      assert.deepEqual(p.consoleErrors, []);
    });

    it("pauses and resumes, then aborts another upload: its pending upload is deleted", async () => {
      const p = await openAs("react-pause", "react-upload");
      const ids = presignedIds(p.page);
      await p.throttleUpload(THROTTLE);
      await p.page.getByLabel("File").setInputFiles(await videoFile("clip.mp4"));
      await p.page.waitForFunction(() => Number(document.querySelector("progress")?.value) > 0.4);
      await p.page.getByRole("button", { name: "Pause" }).click();
      await p.page.getByText("paused", { exact: true }).waitFor();
      await p.screenshot(`react-paused-${slug}`);
      await p.page.getByRole("button", { name: "Resume" }).click();
      await p.page.getByLabel("Result").waitFor();
      assert.deepEqual((await eventsOf(p, "resolved")).map((e) => e.resumed), [true]);

      await p.page.getByLabel("File").setInputFiles(await videoFile("other.mp4"));
      await p.page.waitForFunction(() => Number(document.querySelector("progress")?.value) > 0.2);
      await p.page.getByRole("button", { name: "Abort" }).click();
      await p.page.getByText("idle", { exact: true }).waitFor();
      assert.deepEqual((await eventsOf(p, "rejected")).map((e) => e.code), ["ABORTED"]);
      await eventually("the presigns", () => Promise.resolve(ids.length), (n) => n === 2);
      await eventually("the aborted upload", () => uploadOf("react-pause", ids[1] as string), (u) => u.status === "deleted");
      assert.deepEqual((await uploadsOf("react-pause")).map((u) => u.status), ["confirmed"]);
      assert.equal((await quotaOf("react-pause")).pendingUploads, 0);
      assert.deepEqual(p.consoleErrors, []);
    });

    it("an upload started from a mount effect survives StrictMode's double effects, leaving nothing behind", async () => {
      const p = await openAs("react-strict", "react-upload", { query: "?auto" });
      await p.page.getByLabel("Result").waitFor();
      const events = await p.events();
      // The first mount's upload is aborted by the simulated unmount; the remount's is the one that runs.
      assert.deepEqual(events.filter((e) => e.type === "rejected" || e.type === "resolved").map((e) => e.type), ["rejected", "resolved"]);
      assert.deepEqual((await uploadsOf("react-strict")).map((u) => u.status), ["confirmed"]);
      assert.equal((await quotaOf("react-strict")).pendingUploads, 0);
      assert.deepEqual(p.consoleErrors, []);
    });
  });
});

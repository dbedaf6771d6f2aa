import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { describe, it } from "node:test";
import { PDF, PNG } from "../helpers/fixtures.js";
import { confirm, type Presigned, presign, presignAndPut } from "../helpers/flow.js";
import { putPresigned } from "../helpers/http.js";
import {
  DAY, eventsFor, HOUR, later, MiB, MP4_HEADER, multipartAlive, objectExists, putRaw, runSweep, statusOf, SWEEP_BACKENDS,
  type SweepBackend, untimed, usedBytes,
} from "../helpers/sweep.js";

/** Runs `test` against a fresh instance of the backend and always cleans up. */
async function using(make: () => Promise<SweepBackend>, test: (backend: SweepBackend) => Promise<void>): Promise<void> {
  const backend = await make();
  try {
    await test(backend);
  } finally {
    await backend.close();
  }
}

const confirmed = async (backend: SweepBackend, user: string, body: Buffer, input: { ownerType: string; contentType: string }) => {
  const up = await presignAndPut(backend.server, user, body, input);
  const res = await confirm(backend.server, user, up.id);
  assert.equal(res.status, 200, res.body.toString());
  return up;
};

for (const [name, make] of SWEEP_BACKENDS) describe(`the sweeper on ${name}`, () => {
  it("expires abandoned uploads, deletes their objects and aborts their multipart uploads; a dry run lists the same and changes nothing", () =>
    using(make, async (backend) => {
      const { server } = backend;
      const uploaded = await presignAndPut(server, "abandoner", PDF, { contentType: "application/pdf" });
      const neverSent = (await presign(server, "abandoner", { contentType: "application/pdf", size: PDF.length })).json<Presigned>();
      const video = await server.api("POST", "/v1/uploads", {
        as: "abandoner",
        body: { ownerType: "video", filename: "clip.mp4", contentType: "video/mp4", size: 6 * MiB },
      });
      assert.equal(video.status, 201, video.body.toString());
      const mp = video.json();
      const firstPart = Buffer.concat([MP4_HEADER, randomBytes(mp.multipart.partSize - MP4_HEADER.length)]);
      assert.equal((await putPresigned(mp.multipart.parts[0], firstPart)).status, 200);
      const uploadId = (await server.runtime.store.findUpload(mp.id))?.multipart?.uploadId ?? "";
      const kept = await confirmed(backend, "abandoner", PDF, { ownerType: "document", contentType: "application/pdf" });
      const ours = [uploaded.key, neverSent.key, mp.key, kept.key];

      // Within the grace (URL expired 15 min in, plus 1 h): nothing yet.
      const early = await runSweep(server, { now: later(HOUR), jobs: ["abandoned"] });
      assert.deepEqual(eventsFor(early.events, ours), []);

      // Multipart URLs live 24 h, so look a day and a half ahead.
      const now = later(DAY + 12 * HOUR);
      const dry = await runSweep(server, { now, dryRun: true, jobs: ["abandoned"] });
      const expected = [uploaded.key, neverSent.key, mp.key].map((key) => `abandoned would-expire ${key}`).sort();
      assert.deepEqual(eventsFor(dry.events, ours), expected);
      // Declared sizes: no HEAD per upload (see `abandoned`), so the never-sent ones count too.
      const declared = 2 * PDF.length + 6 * MiB;
      assert.equal(dry.report.jobs.abandoned.bytes, declared);
      assert.equal((await statusOf(server, "abandoner", uploaded.id)).status, "pending", "a dry run changes no status");
      assert.ok(await objectExists(server, "private", `staging/${uploaded.id}`), "a dry run deletes nothing");
      assert.ok(await multipartAlive(backend, `staging/${mp.id}`, uploadId), "a dry run aborts nothing");

      const real = await runSweep(server, { now, jobs: ["abandoned"] });
      assert.deepEqual(eventsFor(real.events, ours), expected.map((e) => e.replace("would-expire", "expired")));
      assert.deepEqual(untimed(real.report.jobs.abandoned), { counts: { expired: 3 }, bytes: declared, errors: 0 });
      assert.equal(real.events.find((e) => e.key === mp.key)?.multipartAborted, true);
      for (const id of [uploaded.id, neverSent.id, mp.id]) assert.equal((await statusOf(server, "abandoner", id)).status, "expired");
      assert.equal(await objectExists(server, "private", `staging/${uploaded.id}`), false);
      assert.equal(await multipartAlive(backend, `staging/${mp.id}`, uploadId), false, "the multipart upload is aborted");
      assert.equal((await statusOf(server, "abandoner", kept.id)).status, "confirmed");
      assert.ok(await objectExists(server, "private", kept.key));
      // Confirming an expired upload is refused as gone.
      assert.equal((await confirm(server, "abandoner", uploaded.id)).status, 410);

      const again = await runSweep(server, { now, jobs: ["abandoned"] });
      assert.deepEqual(again.report.jobs.abandoned.counts, {}, "a second run finds nothing");
    }));

  it("deletes orphan objects past the grace, keeps young ones, live uploads, retained records and other prefixes", () =>
    using(make, async (backend) => {
      const { server, database } = backend;
      const live = await confirmed(backend, "keeper", PDF, { ownerType: "document", contentType: "application/pdf" });
      const liveAvatar = await confirmed(backend, "keeper", PNG, { ownerType: "avatar", contentType: "image/png" });
      const pending = await presignAndPut(server, "keeper", PDF, { contentType: "application/pdf" });
      const record = await confirmed(backend, "keeper", PDF, { ownerType: "signed_pdf", contentType: "application/pdf" });
      const stale = await confirmed(backend, "keeper", PDF, { ownerType: "document", contentType: "application/pdf" });
      // A row already marked deleted / expired whose object stayed behind (a delete that failed).
      await database.exec(server, `update uploads set status = 'deleted' where id = '${stale.id}'`);
      // A compliance record must survive whatever its row says, until its retention ends.
      await database.exec(server, `update uploads set status = 'expired' where id = '${record.id}'`);
      const ghost = `documents/ghost/${randomBytes(4).toString("hex")}.pdf`;
      const ghostAvatar = `avatars/ghost/${randomBytes(4).toString("hex")}.png`;
      await putRaw(server, "private", ghost, PDF);
      await putRaw(server, "public", ghostAvatar, PNG);
      // A staging object no row names (a database restored from an older backup).
      const ghostStaging = `staging/${randomBytes(16).toString("hex")}`;
      await putRaw(server, "private", ghostStaging, PDF);
      // Not a prefix any policy writes: someone else's data in a shared bucket.
      await putRaw(server, "private", "other-app/data.bin", PDF);

      const young = await runSweep(server, { now: later(HOUR), jobs: ["orphans"] });
      assert.deepEqual(young.events, [], "nothing younger than the grace is touched");

      const now = later(DAY + HOUR);
      const dry = await runSweep(server, { now, dryRun: true, jobs: ["orphans"] });
      const doomed = [ghost, ghostAvatar, stale.key, ghostStaging];
      assert.deepEqual(dry.events.map((e) => e.key).sort(), [...doomed].sort());
      assert.ok(dry.events.every((e) => e.action === "would-delete"));
      for (const key of doomed) assert.ok(await objectExists(server, key.startsWith("avatars/") ? "public" : "private", key));

      const real = await runSweep(server, { now, jobs: ["orphans"] });
      assert.deepEqual(real.events.map((e) => `${e.action} ${e.key}`).sort(), doomed.map((k) => `deleted ${k}`).sort());
      assert.equal(real.report.jobs.orphans.bytes, 3 * PDF.length + PNG.length);
      assert.equal(await objectExists(server, "private", ghostStaging), false);
      assert.equal(await objectExists(server, "private", ghost), false);
      assert.equal(await objectExists(server, "public", ghostAvatar), false);
      assert.equal(await objectExists(server, "private", stale.key), false);
      assert.ok(await objectExists(server, "private", live.key), "a confirmed upload's object is kept");
      assert.ok(await objectExists(server, "public", liveAvatar.key), "kept though listed through another logical bucket");
      assert.ok(await objectExists(server, "private", `staging/${pending.id}`), "a pending upload's object is kept");
      assert.ok(await objectExists(server, "compliance", record.key), "a retained record is kept whatever its status");
      assert.ok(await objectExists(server, "private", "other-app/data.bin"), "keys outside Stowage's prefixes are never touched");
    }));

  it("expires media past a retention rule with a refund, whether attached or not, and nothing younger", () =>
    using(make, async (backend) => {
      const { server } = backend;
      const loose = await confirmed(backend, "teller", PNG, { ownerType: "story", contentType: "image/png" });
      const attached = await confirmed(backend, "teller", PNG, { ownerType: "story", contentType: "image/png" });
      const attach = await server.api("POST", "/v1/uploads/attach", { as: "teller", body: { uploadIds: [attached.id], parent: { type: "post", id: "p1" } } });
      assert.equal(attach.status, 200, attach.body.toString());
      const doc = await confirmed(backend, "teller", PDF, { ownerType: "document", contentType: "application/pdf" });
      assert.equal(await usedBytes(server, "teller"), 2 * PNG.length + PDF.length);

      const early = await runSweep(server, { now: later(12 * HOUR), jobs: ["retention"] });
      assert.deepEqual(early.report.jobs.retention.counts, {});

      const { report, events } = await runSweep(server, { now: later(2 * DAY), jobs: ["retention"] });
      assert.deepEqual(untimed(report.jobs.retention), { counts: { expired: 2 }, bytes: 2 * PNG.length, errors: 0 });
      assert.deepEqual(events.map((e) => e.uploadId).sort(), [loose.id, attached.id].sort());
      for (const up of [loose, attached]) {
        assert.equal((await statusOf(server, "teller", up.id)).status, "expired");
        assert.equal(await objectExists(server, "public", up.key), false);
      }
      assert.equal((await statusOf(server, "teller", doc.id)).status, "confirmed", "a type without the rule is untouched");
      assert.equal(await usedBytes(server, "teller"), PDF.length, "the quota is given back");
    }));

  it("expires uploads not attached in time, with a refund, and keeps attached ones", () =>
    using(make, async (backend) => {
      const { server } = backend;
      const loose = await confirmed(backend, "drafter", PNG, { ownerType: "draft", contentType: "image/png" });
      const used = await confirmed(backend, "drafter", PNG, { ownerType: "draft", contentType: "image/png" });
      await server.api("POST", "/v1/uploads/attach", { as: "drafter", body: { uploadIds: [used.id], parent: { type: "message", id: "m1" } } });

      assert.deepEqual((await runSweep(server, { now: later(30 * 60 * 1000), jobs: ["unattached"] })).events, []);
      const dry = await runSweep(server, { now: later(2 * HOUR), dryRun: true, jobs: ["unattached"] });
      assert.deepEqual(eventsFor(dry.events, [loose.key, used.key]), [`unattached would-expire ${loose.key}`]);
      assert.equal(await usedBytes(server, "drafter"), 2 * PNG.length, "a dry run refunds nothing");

      const { report } = await runSweep(server, { now: later(2 * HOUR), jobs: ["unattached"] });
      assert.deepEqual(untimed(report.jobs.unattached), { counts: { expired: 1 }, bytes: PNG.length, errors: 0 });
      assert.equal((await statusOf(server, "drafter", loose.id)).status, "expired");
      assert.equal(await objectExists(server, "private", loose.key), false);
      assert.equal((await statusOf(server, "drafter", used.id)).status, "confirmed");
      assert.ok(await objectExists(server, "private", used.key));
      assert.equal(await usedBytes(server, "drafter"), PNG.length);
    }));

  it("never deletes compliance media under retention, even past a retention rule; DELETE answers 409", () =>
    using(make, async (backend) => {
      const { server } = backend;
      const record = await confirmed(backend, "notary", PDF, { ownerType: "signed_pdf", contentType: "application/pdf" });
      // Every job, a year on: the one-day rule on signed_pdf loses to seven years' retention.
      const { report, events } = await runSweep(server, { now: later(365 * DAY) });
      assert.deepEqual(events.filter((e) => e.key === record.key), []);
      assert.ok(Object.values(report.jobs).every((job) => job.failure === undefined && job.errors === 0), JSON.stringify(report));
      assert.equal((await statusOf(server, "notary", record.id)).status, "confirmed");
      assert.ok(await objectExists(server, "compliance", record.key));
      const del = await server.api("DELETE", `/v1/uploads/${record.id}`, { as: "notary" });
      assert.equal(del.status, 409);
      assert.equal(del.json().error.code, "RETENTION_ACTIVE");
    }));

  it("expires and refunds confirmed uploads whose object vanished, and reports them", () =>
    using(make, async (backend) => {
      const { server } = backend;
      const lost = await confirmed(backend, "loser", PDF, { ownerType: "document", contentType: "application/pdf" });
      const fine = await confirmed(backend, "loser", PNG, { ownerType: "avatar", contentType: "image/png" });
      const record = await confirmed(backend, "loser", PDF, { ownerType: "signed_pdf", contentType: "application/pdf" });
      await server.runtime.driver.delete({ bucket: "private", key: lost.key });
      await server.runtime.driver.delete({ bucket: "compliance", key: record.key });
      assert.equal(await usedBytes(server, "loser"), 2 * PDF.length + PNG.length);

      const dry = await runSweep(server, { now: new Date(), dryRun: true, jobs: ["missing"], batchSize: 2 });
      assert.deepEqual(dry.report.jobs.missing.counts, { "would-expire": 1, kept: 1 });
      assert.equal((await statusOf(server, "loser", lost.id)).status, "confirmed");

      const { report, events } = await runSweep(server, { now: new Date(), jobs: ["missing"], batchSize: 2 });
      assert.deepEqual(report.jobs.missing.counts, { expired: 1, kept: 1 });
      assert.deepEqual(events.map((e) => `${e.action} ${e.uploadId}`).sort(), [`expired ${lost.id}`, `kept ${record.id}`].sort());
      const view = await statusOf(server, "loser", lost.id);
      assert.equal(view.status, "expired");
      assert.equal(view.rejection?.code, "OBJECT_MISSING");
      assert.equal(await usedBytes(server, "loser"), PDF.length + PNG.length, "the lost bytes are given back");
      assert.equal((await statusOf(server, "loser", fine.id)).status, "confirmed");
      assert.equal((await statusOf(server, "loser", record.id)).status, "confirmed", "a retained record stays for an operator to restore");
    }));

  it("checks a slice of the confirmed uploads per run, going on where the last run stopped and around again", () =>
    using(make, async (backend) => {
      const { server } = backend;
      const uploads = [];
      for (let i = 0; i < 5; i++) uploads.push(await confirmed(backend, "slices", PNG, { ownerType: "avatar", contentType: "image/png" }));
      const ids = uploads.map((u) => u.id).sort();
      const byId = new Map(uploads.map((u) => [u.id, u]));
      // Objects 0, 2 and 4 (in id order) vanish.
      for (const i of [0, 2, 4]) await server.runtime.driver.delete({ bucket: "public", key: byId.get(ids[i] as string)?.key ?? "" });

      const run = async (dryRun = false) => {
        const { report, events } = await runSweep(server, { now: new Date(), jobs: ["missing"], missingPerRun: 2, dryRun });
        assert.equal(report.jobs.missing.failure, undefined);
        return events.map((e) => `${e.action} ${ids.indexOf(e.uploadId ?? "")}`);
      };
      assert.deepEqual(await run(true), ["would-expire 0"], "a dry run sees the first slice");
      assert.deepEqual(await run(), ["expired 0"], "and did not move the cursor: the first run checks 0 and 1");
      assert.deepEqual(await run(), ["expired 2"], "then 2 and 3");
      assert.deepEqual(await run(), ["expired 4"], "then 4, and around again to 1 (0 is no longer confirmed)");
      assert.deepEqual(await run(), [], "then 3 and 1: nothing left missing");
      for (const [i, id] of ids.entries()) {
        assert.equal((await statusOf(server, "slices", id)).status, [0, 2, 4].includes(i) ? "expired" : "confirmed");
      }
    }));
});

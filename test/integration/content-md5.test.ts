import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { png } from "../helpers/fixtures.js";
import { putPresigned, type RawResponse } from "../helpers/http.js";
import { graphqlSurface, restSurface, type SignedPart, type Surface, type Ticket } from "../helpers/surfaces.js";
import { MiB, MP4_HEADER, SWEEP_BACKENDS, type SweepBackend } from "../helpers/sweep.js";
import { storedBytes } from "../helpers/stored.js";

const md5 = (body: Buffer) => createHash("md5").update(body).digest("base64");
/** The same bytes with one of them changed: the signed length still fits, the digest does not. */
const corrupted = (body: Buffer) => {
  const copy = Buffer.from(body);
  copy[copy.length - 1] = (copy.at(-1) ?? 0) ^ 0xff;
  return copy;
};
const video = (size: number) => Buffer.concat([MP4_HEADER, randomBytes(size - MP4_HEADER.length)]);

/**
 * Content-MD5 end to end, on the embedded default (SQLite + local disk: Stowage's own endpoint
 * checks the digest) and on PostgreSQL + Ceph RGW (the store itself answers BadDigest), through
 * REST and GraphQL alike: a body that changed on the way is never stored.
 */
for (const [name, makeBackend] of SWEEP_BACKENDS) describe(`Content-MD5 on ${name}`, () => {
  let backend: SweepBackend;
  before(async () => {
    backend = await makeBackend();
  });
  after(async () => backend.close());

  /** The store's refusal of a body that does not match its digest: its own code, 400. */
  const assertBadDigest = (res: RawResponse) => {
    assert.equal(res.status, 400, res.body.toString());
    if (backend.s3 === undefined) {
      assert.equal(res.json().error.code, "BAD_DIGEST");
      assert.match(res.json().error.message, /does not match its Content-MD5/);
    } else assert.match(res.body.toString(), /<Code>BadDigest<\/Code>/);
  };
  const staged = (id: string) => backend.server.runtime.driver.stat({ bucket: "private", key: `staging/${id}` });
  /** Local disk: temporary files left behind by refused uploads (stored parts and manifests are no leftovers). */
  const leftovers = () => {
    if (backend.s3 !== undefined) return [];
    const tmp = join(backend.server.dataDir, "storage", "tmp");
    return readdirSync(tmp, { recursive: true, withFileTypes: true })
      .filter((entry) => entry.isFile() && entry.name !== "manifest.json" && !entry.name.endsWith(".part"))
      .map((entry) => entry.name);
  };

  for (const make of [restSurface, graphqlSurface]) {
    const surface = () => make(backend.server);
    const rest = make === restSurface;
    const field = (name: string, argument: string) => (rest ? `body.${name}` : argument);
    let api: Surface;
    before(() => {
      api = surface();
    });
    const presign = async (user: string, input: Record<string, unknown>): Promise<Ticket> => {
      const outcome = await api.presign(user, input);
      assert.ok(outcome.ok, JSON.stringify(outcome));
      return outcome.value;
    };
    const avatar = (body: Buffer, extra: Record<string, unknown> = {}) => ({
      ownerType: "avatar", filename: "me.png", contentType: "image/png", size: body.length, ...extra,
    });
    const clip = (body: Buffer, extra: Record<string, unknown> = {}) => ({
      ownerType: "video", filename: "clip.mp4", contentType: "video/mp4", size: body.length, ...extra,
    });
    const via = rest ? "REST" : "GraphQL";

    it(`${via}: signs contentMd5 into a single PUT; corrupted bytes of the same length are refused and nothing is stored`, async () => {
      const body = png(4096);
      const ticket = await presign("md5-put", avatar(body, { contentMd5: md5(body) }));
      assert.equal(ticket.kind, "put");
      assert.equal(ticket.headers["Content-MD5"], md5(body));

      assertBadDigest(await putPresigned(ticket, corrupted(body)));
      assert.equal(await staged(ticket.id), undefined, "nothing at the URL's key");
      assert.deepEqual(leftovers(), [], "no temporary file either");
      const early = await api.confirm("md5-put", ticket.id);
      assert.ok(!early.ok);
      assert.equal(early.code, "UPLOAD_NOT_FOUND");

      // Nothing was stored, so the same URL still takes the right bytes.
      assert.equal((await putPresigned(ticket, body)).status, 200);
      const confirmed = await api.confirm("md5-put", ticket.id);
      assert.ok(confirmed.ok, JSON.stringify(confirmed));
      assert.equal(confirmed.value.size, body.length);
      const served = await storedBytes(backend.server.runtime.driver, { bucket: "public", key: ticket.key, length: body.length });
      assert.equal(md5(served), md5(body));
    });

    it(`${via}: refuses a PUT that leaves out or changes the signed Content-MD5 (403), storing nothing`, async () => {
      const body = png(2048);
      const ticket = await presign("md5-header", avatar(body, { contentMd5: md5(body) }));
      const other = corrupted(body);
      for (const override of [{ "Content-MD5": null }, { "Content-MD5": md5(other) }]) {
        // Matching the body it comes with: only the signature can tell.
        const res = await putPresigned(ticket, override["Content-MD5"] === null ? body : other, override);
        assert.equal(res.status, 403, `${JSON.stringify(override)}: ${res.body.toString()}`);
        assert.equal(await staged(ticket.id), undefined);
      }
      assert.equal((await putPresigned(ticket, body)).status, 200);
    });

    it(`${via}: refuses a malformed contentMd5, and contentMd5 with POST, naming the field`, async () => {
      const body = png(100);
      for (const input of [
        avatar(body, { contentMd5: createHash("md5").update(body).digest("hex") }),
        avatar(body, { contentMd5: md5(body), method: "POST" }),
      ]) {
        const outcome = await api.presign("md5-bad", input);
        assert.ok(!outcome.ok, JSON.stringify(outcome));
        assert.deepEqual([outcome.code, outcome.field], ["INVALID_REQUEST", field("contentMd5", "fileInfo.contentMd5")], JSON.stringify(input));
      }
      const quota = await api.quota("md5-bad");
      assert.deepEqual(quota, { ok: true, value: { usedBytes: 0, reservedBytes: 0 } }, "nothing was reserved");
    });

    it(`${via}: signs contentMd5s into part URLs; a corrupted part, or one without its header, is refused and not kept`, async () => {
      const body = video(6 * MiB + 5);
      const ticket = await presign("md5-parts", clip(body, { contentMd5: md5(body) }));
      assert.equal(ticket.kind, "multipart");
      const plan = ticket.multipart;
      assert.ok(plan !== undefined);
      assert.equal(plan.partCount, 2);
      assert.deepEqual(plan.parts.map((p) => p.headers["Content-MD5"]), [undefined, undefined], "the whole file's MD5 is no part's");
      const slice = (n: number) => body.subarray((n - 1) * plan.partSize, n * plan.partSize);

      const signed = await api.signParts("md5-parts", ticket.id, { partNumbers: [2, 1], contentMd5s: [md5(slice(2)), md5(slice(1))] });
      assert.ok(signed.ok, JSON.stringify(signed));
      const byNumber = new Map(signed.value.map((p) => [p.partNumber, p]));
      const part = (n: number) => byNumber.get(n) as SignedPart;
      assert.deepEqual([part(1).headers["Content-MD5"], part(2).headers["Content-MD5"]], [md5(slice(1)), md5(slice(2))]);

      assertBadDigest(await putPresigned(part(1), corrupted(slice(1))));
      assert.equal((await putPresigned(part(1), slice(1), { "Content-MD5": null })).status, 403);
      const other = corrupted(slice(1));
      assert.equal((await putPresigned(part(1), other, { "Content-MD5": md5(other) })).status, 403);
      const listed = await backend.server.api("GET", `/v1/uploads/${ticket.id}/parts`, { as: "md5-parts" });
      assert.deepEqual(listed.json().parts, [], "no refused part was kept");
      assert.deepEqual(leftovers(), []);

      const parts = [];
      for (const n of [1, 2]) {
        const res = await putPresigned(part(n), slice(n));
        assert.equal(res.status, 200, res.body.toString());
        parts.push({ partNumber: n, etag: String(res.headers.etag) });
      }
      assert.equal((await backend.server.api("POST", `/v1/uploads/${ticket.id}/complete`, { as: "md5-parts", body: { parts } })).status, 200);
      const confirmed = await api.confirm("md5-parts", ticket.id);
      assert.ok(confirmed.ok, JSON.stringify(confirmed));
      assert.equal(confirmed.value.size, body.length);
    });

    it(`${via}: refuses contentMd5s that are not parallel to partNumbers, naming the field`, async () => {
      const body = video(6 * MiB);
      const ticket = await presign("md5-len", clip(body));
      const a = md5(body.subarray(0, 10));
      for (const input of [
        { partNumbers: [1, 2], contentMd5s: [a] },
        { partNumbers: [1], contentMd5s: [a, a] },
        { partNumbers: [1, 1], contentMd5s: [a, md5(body.subarray(0, 11))] },
      ]) {
        const outcome = await api.signParts("md5-len", ticket.id, input);
        assert.ok(!outcome.ok, JSON.stringify(outcome));
        assert.deepEqual([outcome.code, outcome.field], ["INVALID_REQUEST", field("contentMd5s", "contentMd5s")], JSON.stringify(input));
        if (rest) assert.equal(outcome.status, 400);
      }
      const malformed = await api.signParts("md5-len", ticket.id, { partNumbers: [1], contentMd5s: ["not an md5"] });
      assert.ok(!malformed.ok);
      assert.equal(malformed.code, "INVALID_REQUEST");
      assert.match(malformed.field ?? "", /contentMd5s/);
    });

    it(`${via}: signs contentMd5 into the only part of a one-part multipart upload`, async () => {
      // Exactly the 5 MiB threshold: multipart, in one part (as is every upload under 5 MiB on a store without conditional writes).
      const body = video(5 * MiB);
      const ticket = await presign("md5-one", clip(body, { contentMd5: md5(body) }));
      assert.equal(ticket.multipart?.partCount, 1);
      const only = ticket.multipart?.parts[0] as SignedPart;
      assert.equal(only.headers["Content-MD5"], md5(body));
      assertBadDigest(await putPresigned(only, corrupted(body)));
      const put = await putPresigned(only, body);
      assert.equal(put.status, 200);
      const parts = [{ partNumber: 1, etag: String(put.headers.etag) }];
      assert.equal((await backend.server.api("POST", `/v1/uploads/${ticket.id}/complete`, { as: "md5-one", body: { parts } })).status, 200);
      assert.ok((await api.confirm("md5-one", ticket.id)).ok);
    });
  }
});

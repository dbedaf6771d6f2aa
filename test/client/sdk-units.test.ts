import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { describe, it } from "node:test";
import { refusalOf } from "../../packages/client/src/errors.js";
import { browserMd5, md5Hex, nobleMd5 } from "../../packages/client/src/md5.js";
import { createClient, cryptoMd5, typeFromName } from "../../packages/client/src/node.js";
import { checkAgainstPolicy } from "../../packages/client/src/policy-check.js";
import { backoffMs, isRetryableStatus, retryAfterMs, retrySettings } from "../../packages/client/src/retry.js";
import { blobSource, streamSource } from "../../packages/client/src/source.js";

const text = async (range: { stream(): ReadableStream<Uint8Array> }) => Buffer.from(await new Response(range.stream()).arrayBuffer());

describe("client retries", () => {
  const settings = retrySettings({ minDelayMs: 100, maxDelayMs: 1000 });
  it("backs off exponentially with jitter between half and all of the ceiling, capped", () => {
    assert.equal(backoffMs(1, settings, undefined, () => 0), 50);
    assert.equal(backoffMs(1, settings, undefined, () => 1), 100);
    assert.equal(backoffMs(3, settings, undefined, () => 1), 400);
    assert.equal(backoffMs(10, settings, undefined, () => 1), 1000);
  });
  it("waits at least what Retry-After asks, in seconds or as a date", () => {
    assert.equal(backoffMs(1, settings, 5000, () => 0), 5000);
    assert.equal(retryAfterMs("7"), 7000);
    assert.equal(retryAfterMs(new Date(Date.now() + 3000).toUTCString(), Date.now()) !== undefined, true);
    assert.equal(retryAfterMs("soon"), undefined);
    assert.equal(retryAfterMs(null), undefined);
  });
  it("retries 5xx, 408 and 429, never another 4xx", () => {
    const statuses = [500, 503, 408, 429, 400, 403, 404, 413, 415];
    assert.deepEqual(statuses.filter(isRetryableStatus), [500, 503, 408, 429]);
  });
});

describe("client sources", () => {
  it("slices Blobs, and reads a once-only stream in order into ranges", async () => {
    const bytes = randomBytes(100_000);
    const blob = blobSource(new Blob([bytes], { type: "image/png" }));
    assert.deepEqual(await text(await blob.range(10, 20)), bytes.subarray(10, 20));
    const stream = streamSource(
      new ReadableStream({
        start(c) {
          for (let at = 0; at < bytes.length; at += 7_777) c.enqueue(new Uint8Array(bytes.subarray(at, at + 7_777)));
          c.close();
        },
      }),
      { size: bytes.length },
    );
    const [a, b] = await Promise.all([stream.range(0, 30_000), stream.range(50_000, 100_000)]);
    assert.deepEqual(await text(a), bytes.subarray(0, 30_000));
    assert.deepEqual(await text(b), bytes.subarray(50_000, 100_000), "the bytes between were skipped");
    await assert.rejects(stream.range(0, 10), /read once, in order/);
  });
  it("knows common types by extension only", () => {
    assert.deepEqual([typeFromName("a/b.PNG"), typeFromName("x.pdf"), typeFromName("noext"), typeFromName("x.exe")], ["image/png", "application/pdf", undefined, undefined]);
  });
});

describe("client MD5", () => {
  it("gives the same base64 Content-MD5 with hash-wasm and noble (browsers) and node:crypto", async () => {
    for (const size of [0, 1, 64, 1_000_003]) {
      const bytes = randomBytes(size);
      const expected = createHash("md5").update(bytes).digest("base64");
      const range = await blobSource(new Blob([bytes])).range(0, size);
      assert.equal(await nobleMd5(range), expected);
      assert.equal(await browserMd5(range), expected);
      assert.equal(await cryptoMd5(range), expected);
      assert.equal(md5Hex(expected), createHash("md5").update(bytes).digest("hex"));
    }
  });
});

describe("client refusals", () => {
  it("reads S3's XML and Stowage's JSON errors", () => {
    const s3 = refusalOf(400, "<Error><Code>BadDigest</Code><Message>The Content-MD5 you specified did not match.</Message></Error>", "part 1");
    assert.deepEqual([s3.code, s3.kind, s3.status, s3.message], ["BAD_DIGEST", "refused", 400, "The Content-MD5 you specified did not match."]);
    const own = refusalOf(410, JSON.stringify({ error: { code: "UPLOAD_GONE", message: "Gone.", details: { a: 1 } } }), "part 1");
    assert.deepEqual([own.code, own.message, own.details], ["UPLOAD_GONE", "Gone.", { a: 1 }]);
    assert.equal(refusalOf(403, "", "the file").code, "HTTP_403");
  });
  it("checks a published policy before any byte moves", () => {
    const policy = { ownerType: "chat_upload", allowedTypes: ["image/png"], maxBytes: 10, visibility: "private" as const, ownerIdRequired: true, multipartThresholdBytes: null };
    assert.throws(() => checkAgainstPolicy(policy, 11, "image/png", "c1"), { code: "FILE_TOO_LARGE" });
    assert.throws(() => checkAgainstPolicy(policy, 5, "image/gif", "c1"), { code: "CONTENT_TYPE_NOT_ALLOWED" });
    assert.throws(() => checkAgainstPolicy(policy, 5, "image/png", undefined), { code: "OWNER_ID_REQUIRED" });
    checkAgainstPolicy(policy, 10, "Image/PNG; charset=binary", "c1");
    checkAgainstPolicy(undefined, 1e12, "x/y", undefined);
  });
});

describe("client authorization", () => {
  it("sends `Bearer <token>` by default, and the header `authorization` makes when given (an upload link's)", async () => {
    const sent: (string | null)[] = [];
    const fetch = (async (_url: string | URL | Request, init?: RequestInit) => {
      sent.push(new Headers(init?.headers).get("authorization"));
      return Response.json({ items: [] });
    }) as typeof globalThis.fetch;
    await createClient({ baseUrl: "http://stowage.test", getToken: () => "jwt", fetch }).policies();
    await createClient({ baseUrl: "http://stowage.test", getToken: () => "lnk", authorization: (t) => `UploadLink ${t}`, fetch }).policies();
    assert.deepEqual(sent, ["Bearer jwt", "UploadLink lnk"]);
  });
});

describe("client options", () => {
  const base = { baseUrl: "http://127.0.0.1:1", getToken: () => "t" };
  const refusal = (make: () => unknown) => {
    try {
      make();
    } catch (error) {
      return { kind: (error as { kind?: string }).kind, code: (error as { code?: string }).code, message: (error as Error).message };
    }
    return assert.fail("no error");
  };

  it("refuses a numeric option out of its range at createClient, naming it and what it got, before anything is sent", () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ concurrency: 0 }, "`concurrency` must be a whole number of at least 1; got 0."],
      [{ concurrency: 2.5 }, "`concurrency` must be a whole number of at least 1; got 2.5."],
      [{ concurrency: "4" }, "`concurrency` must be a whole number of at least 1; got \"4\"."],
      [{ apiTimeoutMs: -1 }, "`apiTimeoutMs` must be a number of milliseconds, 0 or more; got -1."],
      [{ apiTimeoutMs: Number.NaN }, "`apiTimeoutMs` must be a number of milliseconds, 0 or more; got NaN."],
      [{ retry: { retries: -1 } }, "`retry.retries` must be a whole number of at least 0; got -1."],
      [{ retry: { stallTimeoutMs: Infinity } }, "`retry.stallTimeoutMs` must be a number of milliseconds, 0 or more; got Infinity."],
    ];
    for (const [options, message] of cases) {
      assert.deepEqual(refusal(() => createClient({ ...base, ...options } as never)), { kind: "configuration", code: "INVALID_OPTION", message });
    }
    assert.equal(typeof createClient({ ...base, concurrency: 1, apiTimeoutMs: 0, retry: { retries: 0, minDelayMs: 0 } }).upload, "function");
  });

  it("refuses an upload's own retry options the same way, as a rejected upload", async () => {
    const client = createClient(base);
    await assert.rejects(client.upload(Buffer.from("x"), { ownerType: "avatar", retry: { maxDelayMs: -5 } }), {
      kind: "configuration",
      code: "INVALID_OPTION",
      message: "`retry.maxDelayMs` must be a number of milliseconds, 0 or more; got -5.",
    });
    await assert.rejects(client.upload(Buffer.from("x"), { ownerType: "avatar", concurrency: Number.NaN }), {
      code: "INVALID_OPTION",
      message: "`concurrency` must be a whole number of at least 1; got NaN.",
    });
  });
});

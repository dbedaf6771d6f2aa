import assert from "node:assert/strict";
import { createHash, createHmac } from "node:crypto";
import { describe, it } from "node:test";
import type { AwsCredentialIdentity } from "@smithy/types";
import { escapeUri, Presigner, reusedCredentials } from "./presigner.js";
import type { PresignerOptions, PresignInput } from "./presigner.js";

const ACCESS_KEY_ID = "AKIDEXAMPLE";
const SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
const REGION = "eu-west-1";
/** 2024-01-02T03:04:05.500Z: mid-second, so a 1 ms race between the two clock reads cannot change the signing second. */
const FIXED = Date.UTC(2024, 0, 2, 3, 4, 5, 500);

const staticCredentials = async (): Promise<AwsCredentialIdentity> => ({ accessKeyId: ACCESS_KEY_ID, secretAccessKey: SECRET });

function presigner(overrides: Partial<PresignerOptions> = {}): Presigner {
  return new Presigner({
    endpoint: new URL("http://127.0.0.1:9000"),
    region: REGION,
    forcePathStyle: true,
    credentials: staticCredentials,
    clockOffset: () => FIXED - Date.now(),
    ...overrides,
  });
}

const PUT: PresignInput = {
  method: "PUT",
  bucket: "bucket",
  key: "a/b c.png",
  expiresInSeconds: 900,
  headers: { "Content-Type": "image/png", "Content-Length": "1234" },
};

/** Query parameters of a URL as [name, value] pairs, decoded, in order. */
function params(url: string): [string, string][] {
  const search = url.slice(url.indexOf("?") + 1);
  return search.split("&").map((pair) => {
    const at = pair.indexOf("=");
    return [decodeURIComponent(pair.slice(0, at)), decodeURIComponent(pair.slice(at + 1))];
  });
}

function param(url: string, name: string): string {
  const found = params(url).filter(([n]) => n === name);
  assert.equal(found.length, 1, `exactly one ${name} in ${url}`);
  return found[0]?.[1] ?? "";
}

/** `20240102T030405Z` → epoch milliseconds. */
function amzDateMs(amzDate: string): number {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(amzDate);
  assert.ok(m, `X-Amz-Date '${amzDate}'`);
  const [, y, mo, d, h, mi, s] = m.map(Number) as [number, number, number, number, number, number, number];
  return Date.UTC(y, mo - 1, d, h, mi, s);
}

// --- An independent SigV4 query-signature computation (node:crypto only), to check the signer's output. ---

/** RFC 3986 percent-encoding, byte by byte: only A-Z a-z 0-9 - _ . ~ stay as they are. */
function rfc3986(value: string): string {
  let out = "";
  for (const byte of Buffer.from(value, "utf8")) {
    const c = String.fromCharCode(byte);
    out += /[A-Za-z0-9\-_.~]/.test(c) ? c : `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

const hmac = (key: string | Buffer, data: string): Buffer => createHmac("sha256", key).update(data, "utf8").digest();

/** The signature a presigned URL should carry, from its own query and the headers it signs. */
function expectedSignature(method: string, url: string, headers: Record<string, string>, region: string, secret: string): string {
  const u = new URL(url);
  const query = params(url)
    .filter(([name]) => name !== "X-Amz-Signature")
    .map(([name, value]) => [rfc3986(name), rfc3986(value)] as const)
    .sort(([a, av], [b, bv]) => (a < b ? -1 : a > b ? 1 : av < bv ? -1 : av > bv ? 1 : 0))
    .map(([name, value]) => `${name}=${value}`)
    .join("&");
  const canonicalHeaders = Object.entries({ host: u.host, ...headers })
    .map(([name, value]) => [name.toLowerCase(), value.trim()] as const)
    .sort(([a], [b]) => (a < b ? -1 : 1));
  const signedHeaders = canonicalHeaders.map(([name]) => name).join(";");
  const canonicalRequest = [
    method,
    u.pathname,
    query,
    ...canonicalHeaders.map(([name, value]) => `${name}:${value}`),
    "",
    signedHeaders,
    "UNSIGNED-PAYLOAD",
  ].join("\n");
  const amzDate = param(url, "X-Amz-Date");
  const day = amzDate.slice(0, 8);
  const scope = `${day}/${region}/s3/aws4_request`;
  const stringToSign = ["AWS4-HMAC-SHA256", amzDate, scope, createHash("sha256").update(canonicalRequest).digest("hex")].join("\n");
  const key = hmac(hmac(hmac(hmac(`AWS4${secret}`, day), region), "s3"), "aws4_request");
  return hmac(key, stringToSign).toString("hex");
}

describe("expectedSignature (the test's own SigV4 reference)", () => {
  it("reproduces the presigned-URL example of the S3 SigV4 documentation", () => {
    // https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-query-string-auth.html
    const url = "https://examplebucket.s3.amazonaws.com/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256"
      + "&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z"
      + "&X-Amz-Expires=86400&X-Amz-SignedHeaders=host"
      + "&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404";
    assert.equal(
      expectedSignature("GET", url, {}, "us-east-1", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
      param(url, "X-Amz-Signature"),
    );
  });
});

describe("escapeUri", () => {
  it("escapes what encodeURIComponent leaves alone: ! ' ( ) *", () => {
    assert.equal(escapeUri("a!b"), "a%21b");
    assert.equal(escapeUri("!'()*"), "%21%27%28%29%2A");
  });

  it("escapes spaces, reserved characters and unicode as UTF-8, and keeps unreserved characters", () => {
    assert.equal(escapeUri("b c"), "b%20c");
    assert.equal(escapeUri("a/b?c#d&e=f+g;h:i@j,k$l"), "a%2Fb%3Fc%23d%26e%3Df%2Bg%3Bh%3Ai%40j%2Ck%24l");
    assert.equal(escapeUri("é😀"), "%C3%A9%F0%9F%98%80");
    assert.equal(escapeUri("AZaz09-_.~"), "AZaz09-_.~");
  });

  it("matches a byte-wise RFC 3986 encoder for every ASCII character and some unicode", () => {
    const all = Array.from({ length: 128 }, (_, i) => String.fromCharCode(i)).join("") + "ü中文😀";
    assert.equal(escapeUri(all), rfc3986(all));
  });
});

describe("Presigner", () => {
  it("builds a path-style URL with the SigV4 query parameters", async () => {
    const { url } = await presigner().presign(PUT);
    assert.ok(url.startsWith("http://127.0.0.1:9000/bucket/a/b%20c.png?"), url);
    assert.equal(param(url, "X-Amz-Algorithm"), "AWS4-HMAC-SHA256");
    assert.equal(param(url, "X-Amz-Credential"), `${ACCESS_KEY_ID}/20240102/${REGION}/s3/aws4_request`);
    assert.ok(url.includes(`X-Amz-Credential=${ACCESS_KEY_ID}%2F20240102%2F${REGION}%2Fs3%2Faws4_request`), url);
    assert.equal(param(url, "X-Amz-Date"), "20240102T030405Z");
    assert.equal(param(url, "X-Amz-Expires"), "900");
    assert.equal(param(url, "X-Amz-SignedHeaders"), "content-length;content-type;host");
    assert.match(param(url, "X-Amz-Signature"), /^[0-9a-f]{64}$/);
  });

  it("produces the signature an independent SigV4 computation expects (PUT with signed headers)", async () => {
    const { url } = await presigner().presign(PUT);
    assert.equal(param(url, "X-Amz-Signature"), expectedSignature("PUT", url, PUT.headers ?? {}, REGION, SECRET));
  });

  it("produces the signature an independent SigV4 computation expects (virtual-hosted GET with response overrides)", async () => {
    const { url } = await presigner({ endpoint: new URL("https://s3.eu-west-1.amazonaws.com"), forcePathStyle: false }).presign({
      method: "GET",
      bucket: "acme-media",
      key: "private/ü (1)!.pdf",
      expiresInSeconds: 300,
      query: { "response-content-disposition": "attachment; filename=\"it's a file.pdf\"" },
    });
    assert.equal(param(url, "X-Amz-SignedHeaders"), "host");
    assert.equal(param(url, "X-Amz-Signature"), expectedSignature("GET", url, {}, REGION, SECRET));
  });

  it("signs every header it is given, lower-cased and sorted (including Cache-Control and If-None-Match)", async () => {
    const headers = {
      "Content-Type": "image/png",
      "Content-Length": "1234",
      "Cache-Control": "public, max-age=31536000, immutable",
      "If-None-Match": "*",
    };
    const { url } = await presigner().presign({ ...PUT, headers });
    // The client is told to send all of these; any header left unsigned can be changed or dropped freely.
    assert.equal(param(url, "X-Amz-SignedHeaders"), "cache-control;content-length;content-type;host;if-none-match");
  });

  it("puts the bucket in the host for virtual-hosted style, keeping the port and the endpoint's path", async () => {
    const { url } = await presigner({ endpoint: new URL("http://localhost:9000"), forcePathStyle: false }).presign(PUT);
    assert.ok(url.startsWith("http://bucket.localhost:9000/a/b%20c.png?"), url);
    const aws = await presigner({ endpoint: new URL("https://s3.eu-west-1.amazonaws.com"), forcePathStyle: false }).presign(PUT);
    assert.ok(aws.url.startsWith("https://bucket.s3.eu-west-1.amazonaws.com/a/b%20c.png?"), aws.url);
    assert.equal(aws.url.indexOf("/bucket/"), -1);
    const based = await presigner({ endpoint: new URL("https://gw.example.com/s3/") }).presign(PUT);
    assert.ok(based.url.startsWith("https://gw.example.com/s3/bucket/a/b%20c.png?"), based.url);
  });

  it("adds no checksum parameters to the URL", async () => {
    for (const input of [PUT, { ...PUT, method: "GET" as const, headers: {} }]) {
      const { url } = await presigner().presign(input);
      const names = params(url).map(([name]) => name.toLowerCase());
      assert.ok(!names.some((name) => name.startsWith("x-amz-checksum")), url);
      assert.ok(!names.includes("x-amz-sdk-checksum-algorithm"), url);
      assert.ok(!/checksum/i.test(url), url);
    }
  });

  it("RFC 3986-escapes each key segment once, keeping the slashes", async () => {
    const { url } = await presigner().presign({ ...PUT, key: "dir/it's (1)!*.png/ü 中.png" });
    assert.ok(url.startsWith("http://127.0.0.1:9000/bucket/dir/it%27s%20%281%29%21%2A.png/%C3%BC%20%E4%B8%AD.png?"), url);
    assert.equal(param(url, "X-Amz-Signature"), expectedSignature("PUT", url, PUT.headers ?? {}, REGION, SECRET));
  });

  it("is stable for identical inputs at the same instant", async () => {
    const a = await presigner().presign(PUT);
    const b = await presigner().presign(PUT);
    assert.equal(a.url, b.url);
  });

  it("changes the signature when the key, content type, content length or expiry changes", async () => {
    const signatureOf = async (input: PresignInput) => param((await presigner().presign(input)).url, "X-Amz-Signature");
    const base = await signatureOf(PUT);
    const variants: [string, PresignInput][] = [
      ["key", { ...PUT, key: "a/b c2.png" }],
      ["content-type", { ...PUT, headers: { "Content-Type": "image/jpeg", "Content-Length": "1234" } }],
      ["content-length", { ...PUT, headers: { "Content-Type": "image/png", "Content-Length": "1235" } }],
      ["expiry", { ...PUT, expiresInSeconds: 901 }],
      ["bucket", { ...PUT, bucket: "bucket2" }],
      ["method", { ...PUT, method: "GET" }],
    ];
    for (const [what, input] of variants) {
      assert.notEqual(await signatureOf(input), base, `signature unchanged when ${what} changes`);
    }
  });

  it("signs with the skewed clock: clockOffset +1 h puts X-Amz-Date one hour ahead", async () => {
    const before = Date.now();
    const { url } = await presigner({ clockOffset: () => 3600_000 }).presign(PUT);
    const after = Date.now();
    const signedAt = amzDateMs(param(url, "X-Amz-Date"));
    assert.ok(signedAt >= Math.floor((before + 3600_000) / 1000) * 1000, `${signedAt} vs ${before}`);
    assert.ok(signedAt <= after + 3600_000, `${signedAt} vs ${after}`);
  });

  it("caps the expiry at the expiration of temporary credentials", async () => {
    const expiration = new Date(Date.now() + 60_000);
    const temporary = async (): Promise<AwsCredentialIdentity> => ({ ...(await staticCredentials()), sessionToken: "token", expiration });
    const { url, expiresAt } = await presigner({ credentials: temporary, clockOffset: () => 0 }).presign({ ...PUT, expiresInSeconds: 900 });
    const expires = Number(param(url, "X-Amz-Expires"));
    assert.ok(expires <= 60 && expires >= 58, `X-Amz-Expires=${expires}`);
    assert.ok(expiresAt.getTime() <= expiration.getTime(), `${expiresAt.toISOString()} after ${expiration.toISOString()}`);
    assert.ok(Math.abs(expiresAt.getTime() - (amzDateMs(param(url, "X-Amz-Date")) + expires * 1000)) < 1000);
    assert.equal(param(url, "X-Amz-Security-Token"), "token");
  });

  it("keeps the asked expiry when temporary credentials outlive it", async () => {
    const expiration = new Date(FIXED + 3600_000);
    const temporary = async (): Promise<AwsCredentialIdentity> => ({ ...(await staticCredentials()), expiration });
    const { url } = await presigner({ credentials: temporary }).presign({ ...PUT, expiresInSeconds: 900 });
    assert.equal(param(url, "X-Amz-Expires"), "900");
  });

  it("caps the expiry at 7 days (604800 s) with static credentials", async () => {
    const { url, expiresAt } = await presigner().presign({ ...PUT, expiresInSeconds: 30 * 86400 });
    assert.equal(param(url, "X-Amz-Expires"), "604800");
    assert.ok(Math.abs(expiresAt.getTime() - (FIXED + 604800_000)) < 1000);
    const exact = await presigner().presign({ ...PUT, expiresInSeconds: 604800 });
    assert.equal(param(exact.url, "X-Amz-Expires"), "604800");
  });

  it("reports expiresAt no later than the moment the store stops accepting the URL (X-Amz-Date + X-Amz-Expires)", async () => {
    // X-Amz-Date has whole seconds; the signing instant here is 500 ms into a second.
    const { url, expiresAt } = await presigner().presign(PUT);
    const realExpiry = amzDateMs(param(url, "X-Amz-Date")) + Number(param(url, "X-Amz-Expires")) * 1000;
    assert.ok(expiresAt.getTime() <= realExpiry, `expiresAt ${expiresAt.toISOString()} is after ${new Date(realExpiry).toISOString()}`);
  });

  it("puts extra query entries in the URL, RFC 3986-encoded, and signs them", async () => {
    const disposition = "attachment; filename=\"a b.png\"; filename*=UTF-8''a%20b.png";
    const input: PresignInput = {
      ...PUT,
      headers: { "Content-Length": "5242880" },
      query: { "response-content-disposition": disposition, partNumber: "3", uploadId: "2~abc/def+ghi=" },
    };
    const { url } = await presigner().presign(input);
    assert.ok(
      url.includes("response-content-disposition=attachment%3B%20filename%3D%22a%20b.png%22%3B%20filename%2A%3DUTF-8%27%27a%2520b.png"),
      url,
    );
    assert.ok(url.includes("&partNumber=3&") || url.includes("?partNumber=3&"), url);
    assert.ok(url.includes("uploadId=2~abc%2Fdef%2Bghi%3D"), url);
    assert.equal(param(url, "response-content-disposition"), disposition);
    assert.equal(param(url, "uploadId"), "2~abc/def+ghi=");
    assert.equal(new URL(url).searchParams.get("uploadId"), "2~abc/def+ghi=");
    assert.equal(param(url, "X-Amz-Signature"), expectedSignature("PUT", url, input.headers ?? {}, REGION, SECRET));
    const other = await presigner().presign({ ...input, query: { ...input.query, partNumber: "4" } });
    assert.notEqual(param(other.url, "X-Amz-Signature"), param(url, "X-Amz-Signature"));
  });
});

describe("reusedCredentials", () => {
  it("asks the provider once for static keys, again near a temporary identity's expiry, and again after a failure", async () => {
    let calls = 0;
    const answers: (() => Promise<{ accessKeyId: string; secretAccessKey: string; expiration?: Date }>)[] = [
      async () => ({ accessKeyId: "A1", secretAccessKey: "s", expiration: new Date(Date.now() + 60_000) }), // inside the margin
      async () => { throw new Error("metadata service down"); },
      async () => ({ accessKeyId: "A3", secretAccessKey: "s" }),
    ];
    const reused = reusedCredentials(() => (answers[calls++] as () => Promise<never>)());
    assert.equal((await reused()).accessKeyId, "A1");
    await assert.rejects(reused(), /metadata service down/);
    assert.equal((await reused()).accessKeyId, "A3");
    assert.equal((await reused()).accessKeyId, "A3");
    assert.equal(calls, 3);
  });
});

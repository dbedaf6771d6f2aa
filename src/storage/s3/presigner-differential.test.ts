import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Hash } from "@smithy/hash-node";
import { HttpRequest } from "@smithy/protocol-http";
import { SignatureV4 } from "@smithy/signature-v4";
import type { AwsCredentialIdentity } from "@smithy/types";
import { escapeUri, Presigner, type PresignInput } from "./presigner.js";

/**
 * The presigner against `@smithy/signature-v4` (the AWS SDK's own signer, which it replaced on
 * the hot path): for thousands of random requests, both must write the same URL, byte for byte.
 * The reference below is the presigner as it was, built on the SDK's signer.
 */
async function referenceUrl(
  options: { endpoint: URL; region: string; forcePathStyle: boolean; credentials: AwsCredentialIdentity; now: Date },
  input: PresignInput,
): Promise<string> {
  const { endpoint, forcePathStyle, now } = options;
  const signer = new SignatureV4({
    service: "s3",
    region: options.region,
    credentials: async () => options.credentials,
    sha256: Hash.bind(null, "sha256"),
    uriEscapePath: false,
    applyChecksum: false,
  });
  const escapedKey = escapeUri(input.key).replaceAll("%2F", "/");
  const hostname = forcePathStyle ? endpoint.hostname : `${input.bucket}.${endpoint.hostname}`;
  const host = endpoint.port === "" ? hostname : `${hostname}:${endpoint.port}`;
  const basePath = endpoint.pathname.replace(/\/+$/, "");
  const path = forcePathStyle ? `${basePath}/${escapeUri(input.bucket)}/${escapedKey}` : `${basePath}/${escapedKey}`;
  const request = new HttpRequest({
    protocol: endpoint.protocol,
    hostname,
    ...(endpoint.port === "" ? {} : { port: Number(endpoint.port) }),
    method: input.method,
    path,
    query: { ...input.query },
    headers: {
      host,
      ...Object.fromEntries(Object.entries(input.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v])),
      "x-amz-content-sha256": "UNSIGNED-PAYLOAD",
    },
  });
  const signableHeaders = new Set(Object.keys(request.headers));
  const expiresIn = Math.max(1, Math.min(Math.floor(input.expiresInSeconds), 604800));
  const signed = await signer.presign(request, { expiresIn, signingDate: now, signableHeaders });
  const query = Object.entries(signed.query ?? {})
    .flatMap(([name, value]) => (Array.isArray(value) ? value.map((v) => [name, v]) : [[name, value ?? ""]]))
    .map(([name, value]) => `${escapeUri(name ?? "")}=${escapeUri(value ?? "")}`)
    .join("&");
  return `${endpoint.protocol}//${host}${path}?${query}`;
}

/** A small seeded generator (mulberry32), so a failure names the case that reproduces it. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const KEY_CHARS = [..."abcXYZ019-_.~/ !'()*&=+?#%:;,@$[]\"<>^`{|}\\", "é", "ü", "中", "😀", "\u00a0"];
const VALUE_CHARS = [..."abc XYZ 019;=,/\"'()*!~-_.", "\t", "  ", "é", "😀"];

interface Case {
  endpoint: URL;
  region: string;
  forcePathStyle: boolean;
  credentials: AwsCredentialIdentity;
  now: Date;
  input: PresignInput;
}

function generate(rnd: () => number): Case {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(rnd() * items.length)] as T;
  const text = (chars: readonly string[], min: number, max: number) =>
    Array.from({ length: min + Math.floor(rnd() * (max - min + 1)) }, () => pick(chars)).join("");
  const headers: Record<string, string> = {};
  if (rnd() < 0.8) headers[pick(["Content-Type", "content-type"])] = pick(["image/png", "application/pdf", " text/plain ", "image/svg+xml"]);
  if (rnd() < 0.8) headers["Content-Length"] = String(Math.floor(rnd() * 2 ** 40));
  if (rnd() < 0.6) headers["Cache-Control"] = text(VALUE_CHARS, 1, 30);
  if (rnd() < 0.5) headers["If-None-Match"] = "*";
  if (rnd() < 0.3) headers["Content-MD5"] = Buffer.from(text(KEY_CHARS, 4, 16)).toString("base64");
  if (rnd() < 0.15) headers["x-amz-meta-note"] = text(VALUE_CHARS, 0, 12);
  const query: Record<string, string> = {};
  if (rnd() < 0.3) Object.assign(query, { partNumber: String(1 + Math.floor(rnd() * 10000)), uploadId: text(KEY_CHARS, 10, 40) });
  if (rnd() < 0.3) query["response-content-disposition"] = `attachment; filename="${text(KEY_CHARS, 1, 20)}"`;
  if (rnd() < 0.1) query["response-content-type"] = text(VALUE_CHARS, 1, 20);
  const credentials: AwsCredentialIdentity = {
    accessKeyId: text([..."ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"], 16, 20),
    secretAccessKey: text([..."abcdefABCDEF0123456789/+"], 30, 40),
    ...(rnd() < 0.3 ? { sessionToken: text(KEY_CHARS, 20, 60) } : {}),
  };
  return {
    endpoint: new URL(pick(["http://127.0.0.1:9000", "https://s3.eu-west-1.amazonaws.com", "http://localhost:7480/", "https://gw.example.com/s3/", "https://acc.r2.cloudflarestorage.com"])),
    region: pick(["us-east-1", "eu-west-1", "auto", "ap-southeast-2"]),
    forcePathStyle: rnd() < 0.5,
    credentials,
    now: new Date(Math.floor((Date.UTC(2020, 0, 1) + rnd() * 10 * 365 * 86400_000) / 1000) * 1000),
    input: {
      method: pick(["PUT", "GET"] as const),
      bucket: text([..."abcdefghijklmnopqrstuvwxyz0123456789-."], 3, 30),
      key: text(KEY_CHARS, 1, 60),
      expiresInSeconds: pick([1, 60, 900, 3600, 86400, 604800, 1 + Math.floor(rnd() * 604799)]),
      headers,
      query,
    },
  };
}

describe("Presigner against @smithy/signature-v4", () => {
  it("writes the same URL, byte for byte, for 3,000 random requests", async () => {
    const rnd = random(20261206);
    for (let i = 0; i < 3000; i++) {
      const c = generate(rnd);
      const presigner = new Presigner({
        endpoint: c.endpoint,
        region: c.region,
        forcePathStyle: c.forcePathStyle,
        credentials: async () => c.credentials,
        clockOffset: () => c.now.getTime() - Date.now() + 500,
      });
      const ours = await presigner.presign(c.input);
      const theirs = await referenceUrl(c, c.input);
      assert.equal(ours.url, theirs, `case ${i}: ${JSON.stringify(c.input)}`);
    }
  });
});

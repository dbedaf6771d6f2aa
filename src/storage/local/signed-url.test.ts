import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { ErrorCode } from "../../errors.js";
import { StowageError } from "../../errors.js";
import { type SignedScope, sign, verify } from "./signed-url.js";

const SECRET = "s".repeat(32);
const NOW = 1_700_000_000;

const PUT: SignedScope = {
  method: "PUT",
  bucket: "private",
  key: "documents/alice/0f3c.pdf",
  expires: NOW + 300,
  contentType: "application/pdf",
  contentLength: 1234,
  cacheControl: "private, max-age=86400",
};

function isCode(code: ErrorCode) {
  return (error: unknown) => error instanceof StowageError && error.code === code;
}

/** Verifies `request` against a URL signed for PUT, as the local driver would. */
function check(
  request: Partial<Omit<SignedScope, "expires">>,
  query: { expires?: string; signature?: string } = {
    expires: String(PUT.expires),
    signature: sign(PUT, SECRET),
  },
  now = NOW,
): void {
  const { expires: _expires, ...signed } = PUT;
  verify({ ...signed, ...request }, query, SECRET, now);
}

describe("sign/verify", () => {
  it("verifies the request the URL was signed for", () => {
    const { expires: _expires, ...request } = PUT;
    assert.doesNotThrow(() => check(request));
  });

  it("verifies a GET with its disposition", () => {
    const get: SignedScope = {
      method: "GET",
      bucket: "public",
      key: "a/b.png",
      expires: NOW + 60,
      disposition: "attachment; filename=\"b.png\"",
    };
    const { expires, ...scope } = get;
    const query = { expires: String(expires), signature: sign(get, SECRET) };
    assert.doesNotThrow(() => verify(scope, query, SECRET, NOW));
    assert.throws(
      () => verify({ ...scope, disposition: "inline" }, query, SECRET, NOW),
      isCode("SIGNATURE_MISMATCH"),
    );
  });

  it("refuses a request differing in any signed field", () => {
    const changes: Partial<SignedScope>[] = [
      { bucket: "public" },
      { key: "documents/alice/other.pdf" },
      { method: "GET" },
      { contentType: "text/html" },
      { contentLength: 1235 },
      { cacheControl: "public, max-age=31536000" },
    ];
    for (const change of changes) {
      assert.throws(() => check(change), isCode("SIGNATURE_MISMATCH"), JSON.stringify(change));
    }
  });

  it("refuses a request without the signed Content-Type", () => {
    const { expires: _expires, contentType: _type, ...request } = PUT;
    const signature = sign(PUT, SECRET);
    assert.throws(
      () => verify(request, { expires: String(PUT.expires), signature }, SECRET, NOW),
      isCode("SIGNATURE_MISMATCH"),
    );
  });

  it("refuses a changed expiry", () => {
    const signature = sign(PUT, SECRET);
    for (const expires of [PUT.expires + 1, PUT.expires - 1, PUT.expires + 86400]) {
      assert.throws(
        () => check({ method: "PUT" }, { expires: String(expires), signature }),
        isCode("SIGNATURE_MISMATCH"),
        String(expires),
      );
    }
  });

  it("accepts until the expiry second and refuses an expired URL with URL_EXPIRED", () => {
    assert.doesNotThrow(() => check({ method: "PUT" }, undefined, PUT.expires));
    assert.throws(
      () => check({ method: "PUT" }, undefined, PUT.expires + 1),
      isCode("URL_EXPIRED"),
    );
  });

  it("answers SIGNATURE_MISMATCH, not URL_EXPIRED, to a forged later expiry on an expired URL", () => {
    const signature = sign(PUT, SECRET);
    const forged = { expires: String(PUT.expires + 3600), signature };
    assert.throws(
      () => check({ method: "PUT" }, forged, PUT.expires + 10),
      isCode("SIGNATURE_MISMATCH"),
    );
  });

  it("refuses a missing or malformed signature or expiry", () => {
    const signature = sign(PUT, SECRET);
    const expires = String(PUT.expires);
    const queries = [
      { signature },
      { expires },
      {},
      { expires: "soon", signature },
      { expires: "", signature },
      { expires: "-1", signature },
      { expires: `${expires}.0`, signature },
      { expires: "1e10", signature },
      { expires, signature: "" },
      { expires, signature: `${signature}x` },
      { expires, signature: signature.slice(1) },
    ];
    for (const query of queries) {
      assert.throws(
        () => check({ method: "PUT" }, query),
        isCode("SIGNATURE_MISMATCH"),
        JSON.stringify(query),
      );
    }
  });

  it("refuses a signature made with another secret", () => {
    const query = { expires: String(PUT.expires), signature: sign(PUT, "t".repeat(32)) };
    assert.throws(() => check({ method: "PUT" }, query), isCode("SIGNATURE_MISMATCH"));
  });

  it("signs a Content-MD5 into the scope: it cannot be dropped, changed or added", () => {
    const md5 = "XUFAKrxLKna5cZ2REBfFkg==";
    const signed = { ...PUT, contentMd5: md5 };
    const { expires, ...scope } = signed;
    const query = { expires: String(expires), signature: sign(signed, SECRET) };
    assert.doesNotThrow(() => verify(scope, query, SECRET, NOW));
    const { contentMd5: _dropped, ...without } = scope;
    for (const request of [without, { ...scope, contentMd5: "1B2M2Y8AsgTpgAmY7PhCfg==" }, { ...scope, contentMd5: md5.toLowerCase() }]) {
      assert.throws(() => verify(request, query, SECRET, NOW), isCode("SIGNATURE_MISMATCH"), JSON.stringify(request));
    }
    // And a URL signed without one does not verify a request that names one as signed.
    assert.throws(() => check({ contentMd5: md5 }), isCode("SIGNATURE_MISMATCH"));
  });

  it("keeps the signatures of scopes without an MD5 as they were before MD5s existed (URLs handed out survive an upgrade)", () => {
    // Computed with the signer as it was before `contentMd5` was added to the scope.
    assert.equal(sign(PUT, SECRET), "81IsGsGrew6bFbB2VBdrJCMPfonnXFx2HOM1x2ckark");
    const part: SignedScope = { method: "PUT", bucket: "private", key: "staging/x", expires: NOW + 300, contentLength: 5, uploadId: "u", partNumber: 2 };
    assert.equal(sign(part, SECRET), "g5GTq-wKWFaeR9ugEF7Z113UTLX8v5eV-u2u3fBn5RA");
    assert.notEqual(sign({ ...part, contentMd5: "XUFAKrxLKna5cZ2REBfFkg==" }, SECRET), sign(part, SECRET));
  });

  it("signs deterministically and distinguishes scopes", () => {
    assert.equal(sign(PUT, SECRET), sign({ ...PUT }, SECRET));
    assert.notEqual(sign(PUT, SECRET), sign({ ...PUT, key: `${PUT.key} ` }, SECRET));
    assert.match(sign(PUT, SECRET), /^[A-Za-z0-9_-]{43}$/);
  });
});

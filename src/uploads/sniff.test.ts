import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { fileTypeFromBuffer } from "file-type";
import { sniff } from "./sniff.js";

const hex = (s: string) => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ""), "hex"));
const concat = (...parts: Uint8Array[]) => Uint8Array.from(Buffer.concat(parts));

/** A real 1×1 RGBA PNG: signature, IHDR, IDAT, IEND. */
const PNG = hex(
  "89504e470d0a1a0a 0000000d 49484452 00000001 00000001 08 06 000000 1f15c489" +
  "0000000d 49444154 789c63f80f000001010005 18d84e" +
  "00000000 49454e44 ae426082",
);
/** JPEG SOI + APP0 JFIF segment + EOI. */
const JPEG = hex("ffd8 ffe0 0010 4a46494600 0101 00 0001 0001 0000 ffd9");
const PDF = new TextEncoder().encode(
  "%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n",
);
/** ELF64 little-endian identification followed by a zeroed header. */
const ELF = concat(hex("7f454c46 02 01 01 00"), new Uint8Array(56));
/** DOS stub of a Windows executable. */
const EXE = concat(hex("4d5a"), new Uint8Array(62));
/** EBML header whose DocType element (0x4282) is "webm". */
const WEBM = hex(
  "1a45dfa3 9f 4286 81 01 42f7 81 01 42f2 81 04 42f3 81 08" +
  "4282 84 7765626d 4287 81 04 4285 81 02",
);
/** Deterministic bytes with no magic number and invalid UTF-8 (0xff never appears in UTF-8). */
const RANDOM = Uint8Array.from({ length: 512 }, (_, i) => (i * 73 + 0xf1) & 0xff);
const TEXT = new TextEncoder().encode("name,size\nrésumé.pdf,123\n✓ done\n");

describe("sniff fixtures", () => {
  it("are detected by file-type as intended", async () => {
    const expected: [Uint8Array, string | undefined][] = [
      [PNG, "image/png"],
      [JPEG, "image/jpeg"],
      [PDF, "application/pdf"],
      [ELF, "application/x-elf"],
      [EXE, "application/x-msdownload"],
      [WEBM, "video/webm"],
      [RANDOM, undefined],
      [TEXT, undefined],
    ];
    for (const [bytes, mime] of expected) {
      assert.equal((await fileTypeFromBuffer(bytes))?.mime, mime);
    }
  });
});

describe("sniff", () => {
  it("accepts content of the declared type", async () => {
    assert.deepEqual(await sniff(PNG, "image/png"), { ok: true, detected: "image/png" });
    assert.deepEqual(await sniff(JPEG, "image/jpeg"), { ok: true, detected: "image/jpeg" });
    assert.deepEqual(await sniff(PDF, "application/pdf"), {
      ok: true,
      detected: "application/pdf",
    });
  });

  it("refuses a PNG declared as a PDF and names what it is", async () => {
    const result = await sniff(PNG, "application/pdf");
    assert.equal(result.ok, false);
    assert.equal(result.detected, "image/png");
  });

  it("refuses executables declared as images", async () => {
    const elf = await sniff(ELF, "image/png");
    assert.equal(elf.ok, false);
    assert.equal(elf.detected, "application/x-elf");
    const exe = await sniff(EXE, "image/jpeg");
    assert.equal(exe.ok, false);
    assert.equal(exe.detected, "application/x-msdownload");
  });

  it("refuses unrecognisable bytes declared as an image", async () => {
    const result = await sniff(RANDOM, "image/png");
    assert.equal(result.ok, false);
    assert.equal(result.detected, undefined);
  });

  it("accepts UTF-8 text as text/plain and text/csv", async () => {
    assert.deepEqual(await sniff(TEXT, "text/plain"), { ok: true, detected: "text/plain" });
    assert.deepEqual(await sniff(TEXT, "text/csv"), { ok: true, detected: "text/csv" });
  });

  it("accepts text cut in the middle of a multi-byte character", async () => {
    const cut = TEXT.subarray(0, TEXT.indexOf(0x9c) /* inside ✓ (e2 9c 93) */);
    assert.deepEqual(await sniff(cut, "text/plain"), { ok: true, detected: "text/plain" });
  });

  it("refuses text containing a NUL byte", async () => {
    const withNul = concat(TEXT, new Uint8Array([0]), TEXT);
    const result = await sniff(withNul, "text/plain");
    assert.equal(result.ok, false);
    assert.equal(result.detected, undefined);
  });

  it("refuses bytes that are not valid UTF-8 as text, even without a NUL", async () => {
    const latin1 = concat(new TextEncoder().encode("caf"), hex("e9"), TEXT); // ISO-8859-1 "é"
    assert.equal(latin1.includes(0), false);
    const result = await sniff(latin1, "text/plain");
    assert.equal(result.ok, false);
    assert.equal(result.detected, undefined);
  });

  it("refuses a PNG declared as text/plain", async () => {
    const result = await sniff(PNG, "text/plain");
    assert.equal(result.ok, false);
    assert.equal(result.detected, "image/png");
  });

  it("accepts a WebM declared as audio/webm through the equivalence table", async () => {
    assert.deepEqual(await sniff(WEBM, "audio/webm"), { ok: true, detected: "audio/webm" });
    assert.deepEqual(await sniff(WEBM, "video/webm"), { ok: true, detected: "video/webm" });
  });

  it("does not extend equivalences to unrelated types", async () => {
    const result = await sniff(WEBM, "audio/mpeg");
    assert.equal(result.ok, false);
    assert.equal(result.detected, "video/webm");
  });
});

import { randomBytes } from "node:crypto";
import { crc32, deflateSync } from "node:zlib";

/** A real 1×1 PNG. */
export const PNG = Buffer.from(
  "89504e470d0a1a0a0000000d4948445200000001000000010806000000" +
  "1f15c4890000000d49444154789c63f80f00000101000518d84e0000000049454e44ae426082",
  "hex",
);

/** A minimal but well-formed-looking PDF header and body. */
export const PDF = Buffer.from(
  "%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n",
);

/** The start of a Linux executable. */
export const ELF = Buffer.concat([Buffer.from("7f454c4602010100", "hex"), Buffer.alloc(120, 0)]);

/** A Windows executable header. */
export const EXE = Buffer.concat([Buffer.from("MZ"), Buffer.alloc(62, 0x90)]);

export function png(size: number): Buffer {
  // PNG magic followed by padding: sniffs as PNG at any size.
  return Buffer.concat([PNG, randomBytes(Math.max(0, size - PNG.length))]).subarray(
    0,
    Math.max(size, PNG.length),
  );
}

/** One PNG chunk: length, type, data and its CRC. */
export function pngChunk(type: string, data: Buffer): Buffer {
  const body = Buffer.concat([Buffer.from(type, "latin1"), data]);
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

/** An IHDR's data for `width`×`height` 8-bit RGB, deflate, no filter, no interlace. */
export function pngHeader(width: number, height: number): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 2, 0, 0, 0], 8);
  return header;
}

/**
 * A real, visible PNG: a `width`×`height` RGB gradient that browsers decode (an `<img>` of it has
 * a `naturalWidth`), padded after its IEND chunk to `padTo` bytes: decoders stop at IEND, so the
 * file can be as large as a test needs (to make progress visible) and still be a picture.
 */
export function gradientPng(width: number, height: number, padTo = 0): Buffer {
  const chunk = pngChunk;
  const header = pngHeader(width, height);
  const rows = Buffer.alloc((width * 3 + 1) * height);
  for (let y = 0; y < height; y++) {
    const row = y * (width * 3 + 1);
    for (let x = 0; x < width; x++) {
      rows.set([Math.round((255 * x) / width), Math.round((255 * y) / height), 160], row + 1 + x * 3);
    }
  }
  const image = Buffer.concat([
    Buffer.from("89504e470d0a1a0a", "hex"),
    chunk("IHDR", header),
    chunk("IDAT", deflateSync(rows)),
    chunk("IEND", Buffer.alloc(0)),
  ]);
  return image.length >= padTo ? image : Buffer.concat([image, randomBytes(padTo - image.length)]);
}

import { randomBytes } from "node:crypto";

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

import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import sharp from "sharp";
import { alphaPng, noisyJpeg, peakRssGrowth, pngHeaderBomb } from "../../test/helpers/images.js";
import { DerivativeError } from "./derivative-error.js";
import { hardenSharp } from "./harden.js";
import type { DerivativePreset } from "./preset.js";
import { renderDerivative } from "./render.js";

const THUMB: DerivativePreset = { width: 256, height: 256, fit: "cover", format: "webp" };
const MiB = 1024 * 1024;

async function refusal(promise: Promise<unknown>): Promise<DerivativeError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof DerivativeError, `not a DerivativeError: ${String(error)}`);
    return error;
  }
  assert.fail("the render was not refused");
}

let photo: Buffer;
before(async () => {
  photo = await noisyJpeg(1200, 800);
});

describe("renderDerivative output", () => {
  it("turns a noisy 1200×800 JPEG into a 256×256 WebP", async () => {
    const out = await renderDerivative({ input: photo, contentType: "image/jpeg", preset: THUMB });
    assert.deepEqual([out.width, out.height, out.contentType], [256, 256, "image/webp"]);
    const meta = await sharp(out.body).metadata();
    assert.deepEqual([meta.format, meta.width, meta.height], ["webp", 256, 256]);
  });

  it("keeps the alpha of a PNG in a WebP, and flattens it onto white in a JPEG", async () => {
    const input = await alphaPng(600, 400);
    const webp = await renderDerivative({ input, contentType: "image/png", preset: THUMB });
    const webpMeta = await sharp(webp.body).metadata();
    assert.deepEqual([webpMeta.format, webpMeta.width, webpMeta.height, webpMeta.hasAlpha], ["webp", 256, 256, true]);

    const jpeg = await renderDerivative({ input, contentType: "image/png", preset: { ...THUMB, format: "jpeg", fit: "contain" } });
    const jpegMeta = await sharp(jpeg.body).metadata();
    assert.deepEqual([jpeg.contentType, jpegMeta.format, jpegMeta.width, jpegMeta.height, jpegMeta.hasAlpha], ["image/jpeg", "jpeg", 256, 256, false]);
    const { data } = await sharp(jpeg.body).extract({ left: 128, top: 2, width: 1, height: 1 }).raw().toBuffer({ resolveWithObject: true });
    assert.ok([...data].every((channel) => channel > 240), `letterbox is not white: ${[...data].join(",")}`);
  });

  it("fits inside the box without enlarging, in each output format", async () => {
    for (const format of ["webp", "jpeg", "png", "avif"] as const) {
      const out = await renderDerivative({ input: photo, contentType: "image/jpeg", preset: { width: 300, height: 300, fit: "inside", format, quality: 60 } });
      assert.deepEqual([out.width, out.height], [300, 200], format);
      assert.equal((await sharp(out.body).metadata()).format, format === "avif" ? "heif" : format);
    }
    const small = await renderDerivative({ input: await alphaPng(100, 50), contentType: "image/png", preset: { ...THUMB, fit: "inside" } });
    assert.deepEqual([small.width, small.height], [100, 50]);
  });

  it("applies EXIF orientation 6 (rotate 90°): a 1200×800 landscape file shows as portrait", async () => {
    const rotated = await sharp(photo).withMetadata({ orientation: 6 }).jpeg().toBuffer();
    assert.equal((await sharp(rotated).metadata()).orientation, 6);
    const out = await renderDerivative({ input: rotated, contentType: "image/jpeg", preset: { ...THUMB, fit: "inside" } });
    assert.deepEqual([out.width, out.height], [171, 256]);
    assert.equal((await sharp(out.body).metadata()).orientation, undefined);
  });

  it("writes no metadata: the EXIF and GPS of the original are gone", async () => {
    const tagged = await sharp(photo)
      .withExif({
        IFD0: { Make: "StowageTestPhone", Copyright: "someone" },
        IFD3: { GPSLatitudeRef: "N", GPSLatitude: "52/1 31/1 0/1", GPSLongitudeRef: "E", GPSLongitude: "13/1 24/1 0/1" },
      })
      .jpeg()
      .toBuffer();
    const exif = (await sharp(tagged).metadata()).exif;
    assert.ok(exif !== undefined && exif.includes("StowageTestPhone"), "the fixture has no EXIF");
    // 0x8825: the GPS IFD pointer tag, big- or little-endian.
    assert.ok(exif.includes(Buffer.from([0x88, 0x25])) || exif.includes(Buffer.from([0x25, 0x88])), "the fixture has no GPS IFD");

    for (const format of ["webp", "jpeg", "png"] as const) {
      const out = await renderDerivative({ input: tagged, contentType: "image/jpeg", preset: { ...THUMB, format } });
      const meta = await sharp(out.body).metadata();
      assert.equal(meta.exif, undefined, `${format} has EXIF`);
      assert.equal(meta.xmp, undefined, `${format} has XMP`);
      assert.ok(!out.body.includes("StowageTestPhone"), `${format} carries the camera tag`);
    }
  });

  it("lets a 12-megapixel photo through the default pixel limit", async () => {
    const twelve = await sharp({ create: { width: 4000, height: 3000, channels: 3, background: "#369" } }).jpeg().toBuffer();
    const out = await renderDerivative({ input: twelve, contentType: "image/jpeg", preset: THUMB });
    assert.deepEqual([out.width, out.height], [256, 256]);
  });
});

describe("renderDerivative refusals", () => {
  it("refuses a PNG whose header declares 30000×30000 from the header, without the memory to decode it", async () => {
    const bomb = pngHeaderBomb(30000, 30000);
    assert.ok(bomb.length < 1024, `${bomb.length} bytes`);
    const { error, growthBytes } = await peakRssGrowth(() => renderDerivative({ input: bomb, contentType: "image/png", preset: THUMB }));
    console.error(`# 30000×30000 PNG bomb (${bomb.length} bytes): peak RSS growth ${(growthBytes / MiB).toFixed(1)} MiB`);
    assert.ok(error instanceof DerivativeError, String(error));
    assert.equal(error.code, "IMAGE_TOO_LARGE");
    assert.ok(growthBytes < 100 * MiB, `RSS grew ${(growthBytes / MiB).toFixed(1)} MiB`);
  });

  it("uses its own 40 MP default, tighter than sharp's 268 MP: a 7000×6000 header is refused", async () => {
    const error = await refusal(renderDerivative({ input: pngHeaderBomb(7000, 6000), contentType: "image/png", preset: THUMB }));
    assert.equal(error.code, "IMAGE_TOO_LARGE");
    assert.deepEqual(error.details, { maxInputPixels: 40_000_000 });
  });

  it("takes a lower limit from maxInputPixels", async () => {
    const error = await refusal(renderDerivative({ input: photo, contentType: "image/jpeg", preset: THUMB, maxInputPixels: 1200 * 800 - 1 }));
    assert.equal(error.code, "IMAGE_TOO_LARGE");
    await renderDerivative({ input: photo, contentType: "image/jpeg", preset: THUMB, maxInputPixels: 1200 * 800 });
  });

  it("refuses a truncated JPEG as invalid rather than rendering a grey half", async () => {
    const error = await refusal(renderDerivative({ input: photo.subarray(0, Math.floor(photo.length / 2)), contentType: "image/jpeg", preset: THUMB }));
    assert.equal(error.code, "IMAGE_INVALID");
    assert.match(error.message, /premature end/i);
  });

  it("refuses bytes that are no image", async () => {
    const error = await refusal(renderDerivative({ input: Buffer.from("not an image at all"), contentType: "image/jpeg", preset: THUMB }));
    assert.equal(error.code, "UNSUPPORTED_TYPE");
  });

  it("refuses SVG bytes accepted as image/png: no loader will read them", async () => {
    const svg = Buffer.from("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"4000\" height=\"4000\"><image href=\"file:///etc/passwd\"/></svg>");
    const error = await refusal(renderDerivative({ input: svg, contentType: "image/png", preset: THUMB }));
    assert.equal(error.code, "UNSUPPORTED_TYPE");
  });

  it("refuses non-raster types before touching the bytes, whatever they hold", async () => {
    for (const contentType of ["image/svg+xml", "application/pdf", "image/tiff", "image/heic", "text/plain"]) {
      const error = await refusal(renderDerivative({ input: photo, contentType, preset: THUMB }));
      assert.equal(error.code, "UNSUPPORTED_TYPE", contentType);
      assert.equal(error.cause, undefined, `${contentType} reached sharp`);
    }
  });

  it("refuses bytes of another raster type than the one accepted (PNG sent as image/jpeg)", async () => {
    const error = await refusal(renderDerivative({ input: await alphaPng(20, 20), contentType: "image/jpeg", preset: THUMB }));
    assert.equal(error.code, "UNSUPPORTED_TYPE");
    assert.match(error.message, /png, not image\/jpeg/);
  });
});

describe("hardenSharp", () => {
  it("blocks every libvips loader but the raster ones, for any sharp use in the process", async () => {
    hardenSharp();
    const svg = Buffer.from("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"10\" height=\"10\"><rect width=\"10\" height=\"10\"/></svg>");
    const tiff = await sharp({ create: { width: 8, height: 8, channels: 3, background: "#000" } }).tiff().toBuffer();
    for (const [name, bytes] of [["svg", svg], ["tiff", tiff]] as const) {
      await assert.rejects(sharp(bytes).metadata(), /unsupported image format/, name);
    }
    for (const format of ["jpeg", "png", "webp", "gif", "avif"] as const) {
      const bytes = await sharp({ create: { width: 8, height: 8, channels: 3, background: "#000" } }).toFormat(format).toBuffer();
      assert.equal((await sharp(bytes).metadata()).width, 8, format);
    }
    assert.equal(sharp.cache().memory.max, 0, "the libvips operation cache is on");
  });
});

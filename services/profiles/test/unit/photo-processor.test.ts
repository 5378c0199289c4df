import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { crc32, deflateSync } from "node:zlib";
import sharp, { type Sharp } from "sharp";
import {
  DEFAULT_PHOTO_LIMITS,
  PhotoRejectedError,
  processPhoto,
  type PhotoLimits,
  type PhotoRejection,
} from "../../src/photos/photo-processor.ts";
import { detectPhotoType } from "../../src/photos/photo-type.ts";

const limits: PhotoLimits = DEFAULT_PHOTO_LIMITS;

/** A solid-colour image made by sharp, so no binary fixture has to live in the repository. */
function image(width: number, height: number): Sharp {
  return sharp({ create: { width, height, channels: 3, background: { r: 200, g: 100, b: 50 } } });
}

async function rejects(bytes: Buffer, reason: PhotoRejection, photoLimits = limits): Promise<void> {
  await assert.rejects(processPhoto(bytes, photoLimits), (error: unknown) => {
    assert.ok(error instanceof PhotoRejectedError, `not a PhotoRejectedError: ${String(error)}`);
    assert.equal(error.reason, reason);
    return true;
  });
}

/** A PNG that is only a header declaring `width` × `height` and a few bytes of pixel data: a pixel bomb. */
function pngHeaderDeclaring(width: number, height: number): Buffer {
  const chunk = (type: string, data: Buffer): Buffer => {
    const typeAndData = Buffer.concat([Buffer.from(type, "latin1"), data]);
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(typeAndData));
    return Buffer.concat([length, typeAndData, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8); // 8-bit RGB, deflate, adaptive filtering, no interlace
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", ihdr),
    chunk("IDAT", deflateSync(Buffer.alloc(1024))),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}

describe("photo processing: accepted types", () => {
  for (const [type, encode] of [
    ["jpeg", (s: Sharp) => s.jpeg()],
    ["png", (s: Sharp) => s.png()],
    ["webp", (s: Sharp) => s.webp()],
  ] as const) {
    it(`accepts a ${type.toUpperCase()} and stores it as WebP of the same size`, async () => {
      const input = await encode(image(64, 48)).toBuffer();
      assert.equal(detectPhotoType(input), type);
      const photo = await processPhoto(input, limits);
      assert.equal(photo.contentType, "image/webp");
      assert.equal(photo.extension, "webp");
      assert.deepEqual([photo.width, photo.height], [64, 48]);
      const stored = await sharp(photo.body).metadata();
      assert.deepEqual([stored.format, stored.width, stored.height], ["webp", 64, 48]);
      assert.equal(detectPhotoType(photo.body), "webp");
    });
  }
});

describe("photo processing: rejected uploads", () => {
  it("refuses a text file renamed to .jpg, whatever its name says", async () => {
    await rejects(Buffer.from("hello, I am definitely a photo\n"), "unsupported_type");
  });

  it("refuses a PDF, an SVG and a GIF, all of them images to somebody", async () => {
    await rejects(Buffer.from("%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n"), "unsupported_type");
    const svg =
      '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>';
    await rejects(Buffer.from(svg), "unsupported_type");
    await rejects(await image(16, 16).gif().toBuffer(), "unsupported_type");
  });

  it("refuses an empty upload", async () => {
    await rejects(Buffer.alloc(0), "unsupported_type");
  });

  it("refuses a file over the size limit before looking at it", async () => {
    const oversized = Buffer.alloc(limits.maxBytes + 1);
    oversized.set([0xff, 0xd8, 0xff]);
    await rejects(oversized, "too_large");
  });

  it("accepts a file of exactly the size limit", async () => {
    const png = await image(8, 8).png().toBuffer();
    await processPhoto(png, { ...limits, maxBytes: png.length });
  });

  it("refuses a tiny PNG whose header declares 20000 × 20000 pixels without decoding it", async () => {
    const bomb = pngHeaderDeclaring(20_000, 20_000);
    assert.ok(bomb.length < 200, `the bomb is ${bomb.length} bytes`);
    await rejects(bomb, "too_many_pixels");
    // Below sharp's built-in ceiling (16383²) but above ours: our limit is the one that holds.
    await rejects(pngHeaderDeclaring(10_000, 10_000), "too_many_pixels");
  });

  it("refuses a real, highly compressible image just over the pixel limit", async () => {
    const png = await image(2_001, 1_000).png({ compressionLevel: 9 }).toBuffer();
    assert.ok(png.length < limits.maxBytes);
    await rejects(png, "too_many_pixels", { ...limits, maxInputPixels: 2_000_000 });
    await processPhoto(png, { ...limits, maxInputPixels: 2_001_000 });
  });

  it("refuses a truncated JPEG and a PNG signature followed by garbage as corrupt", async () => {
    const jpeg = await image(256, 256).jpeg().toBuffer();
    await rejects(jpeg.subarray(0, Math.floor(jpeg.length / 2)), "corrupt");
    const garbage = Buffer.concat([
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
      Buffer.from("not chunks"),
    ]);
    await rejects(garbage, "corrupt");
  });

  it("names the reason in the error and keeps a readable message", () => {
    const error = new PhotoRejectedError("too_large");
    assert.equal(error.reason, "too_large");
    assert.match(error.message, /larger/);
    assert.equal(new PhotoRejectedError("corrupt", "custom").message, "custom");
  });
});

describe("photo processing: what is stored", () => {
  it("strips EXIF, GPS location included", async () => {
    const gps = {
      GPSLatitudeRef: "S",
      GPSLatitude: "34/1 36/1 0/1",
      GPSLongitudeRef: "W",
      GPSLongitude: "58/1 22/1 0/1",
      GPSMapDatum: "WGS-84",
    };
    const input = await image(64, 48)
      .jpeg()
      .withExif({ IFD0: { Make: "TestCam" }, IFD3: gps })
      .toBuffer();
    const before = await sharp(input).metadata();
    assert.ok(before.exif?.includes("WGS-84"), "the fixture carries GPS data");
    assert.ok(before.exif?.includes("TestCam"));

    const photo = await processPhoto(input, limits);
    const after = await sharp(photo.body).metadata();
    assert.equal(after.exif, undefined);
    assert.equal(after.xmp, undefined);
    assert.equal(after.icc, undefined);
    for (const trace of ["Exif", "WGS-84", "TestCam"]) {
      assert.equal(photo.body.includes(trace), false, `the output still contains ${trace}`);
    }
  });

  it("applies the EXIF orientation to the pixels, so a sideways phone photo stands up", async () => {
    // Orientation 6: the camera was turned 90°, the viewer rotates the 60 × 30 stored pixels clockwise.
    const input = await image(60, 30).jpeg().withMetadata({ orientation: 6 }).toBuffer();
    assert.equal((await sharp(input).metadata()).orientation, 6);
    const photo = await processPhoto(input, limits);
    assert.deepEqual([photo.width, photo.height], [30, 60]);
    const stored = await sharp(photo.body).metadata();
    assert.deepEqual([stored.width, stored.height, stored.orientation], [30, 60, undefined]);
  });

  it("scales a large photo down to fit maxEdge, keeping its proportions", async () => {
    const input = await image(3_000, 1_500).png().toBuffer();
    const photo = await processPhoto(input, limits);
    assert.deepEqual([photo.width, photo.height], [1_024, 512]);
    const portrait = await processPhoto(await image(600, 1_200).jpeg().toBuffer(), {
      ...limits,
      maxEdge: 300,
    });
    assert.deepEqual([portrait.width, portrait.height], [150, 300]);
  });

  it("never enlarges a small photo", async () => {
    const photo = await processPhoto(await image(40, 20).webp().toBuffer(), limits);
    assert.deepEqual([photo.width, photo.height], [40, 20]);
  });
});

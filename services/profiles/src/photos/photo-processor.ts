import sharp, { type Metadata } from "sharp";
import { detectPhotoType } from "./photo-type.ts";

export type PhotoRejection = "unsupported_type" | "too_large" | "too_many_pixels" | "corrupt";

const REJECTION_MESSAGES: Record<PhotoRejection, string> = {
  unsupported_type: "the file is not a JPEG, PNG or WebP image",
  too_large: "the file is larger than allowed",
  too_many_pixels: "the image has more pixels than allowed",
  corrupt: "the image could not be decoded",
};

/** An upload that is not an acceptable photo: a client error, with the reason for the problem response. */
export class PhotoRejectedError extends Error {
  override name = "PhotoRejectedError";
  readonly reason: PhotoRejection;

  constructor(reason: PhotoRejection, message?: string) {
    super(message ?? REJECTION_MESSAGES[reason]);
    this.reason = reason;
  }
}

export interface ProcessedPhoto {
  body: Buffer;
  contentType: "image/webp";
  extension: "webp";
  width: number;
  height: number;
}

export interface PhotoLimits {
  /** The largest upload accepted, in bytes. */
  maxBytes: number;
  /** The most pixels (width × height, as the header declares) an upload may have before it is decoded. */
  maxInputPixels: number;
  /** The longest side of the stored photo; larger photos are scaled down to fit, smaller ones kept. */
  maxEdge: number;
}

/** The contract's 5 MB (read as MiB), a 40-megapixel ceiling (phone cameras stay below), avatars of 1024 px. */
export const DEFAULT_PHOTO_LIMITS: PhotoLimits = {
  maxBytes: 5 * 1024 * 1024,
  maxInputPixels: 40_000_000,
  maxEdge: 1024,
};

// Sharp's settings are process-wide. Each photo gets one libvips thread (its default is one per core, so two
// uploads would already fill this 2-core machine and stall the event loop's neighbours), and at most
// UV_THREADPOOL_SIZE (4) photos are processed at once. libvips' operation cache is off: every upload is a new
// image, so caching only holds decoded pixels in memory for nothing.
sharp.concurrency(1);
sharp.cache(false);

/**
 * An upload turned into the photo we store, or a PhotoRejectedError. Cheap checks first, each before any
 * pixel is decoded: the size, the format from the magic numbers (which sharp's reading of the header must
 * confirm), and the pixel count the header declares, so a small file announcing 20000 × 20000 pixels (a
 * decompression bomb) is refused without allocating them; `limitInputPixels` enforces the same bound inside
 * libvips. The output is re-encoded from the pixels: EXIF orientation applied, scaled down to fit `maxEdge`,
 * WebP, and no metadata kept (EXIF, GPS location, XMP, ICC profile: sharp drops them unless told to keep them,
 * after converting to sRGB).
 */
export async function processPhoto(bytes: Buffer, limits: PhotoLimits): Promise<ProcessedPhoto> {
  if (bytes.length > limits.maxBytes) throw new PhotoRejectedError("too_large");
  const type = detectPhotoType(bytes);
  if (!type) throw new PhotoRejectedError("unsupported_type");

  let metadata: Metadata;
  try {
    // Only the header is read here, so sharp's own pixel limit is lifted: the count is checked just below,
    // against our limit, with its own reason rather than a decoding error.
    metadata = await sharp(bytes, { limitInputPixels: false }).metadata();
  } catch {
    throw new PhotoRejectedError("corrupt");
  }
  if (metadata.format !== type) throw new PhotoRejectedError("unsupported_type");
  const { width, height } = metadata;
  if (!width || !height) throw new PhotoRejectedError("corrupt");
  if (width * height > limits.maxInputPixels) throw new PhotoRejectedError("too_many_pixels");

  try {
    const { data, info } = await sharp(bytes, { limitInputPixels: limits.maxInputPixels, failOn: "warning" })
      .rotate()
      .resize({ width: limits.maxEdge, height: limits.maxEdge, fit: "inside", withoutEnlargement: true })
      .webp({ quality: 82, effort: 4 })
      .toBuffer({ resolveWithObject: true });
    return {
      body: data,
      contentType: "image/webp",
      extension: "webp",
      width: info.width,
      height: info.height,
    };
  } catch (error) {
    if (error instanceof Error && /pixel limit/i.test(error.message)) {
      throw new PhotoRejectedError("too_many_pixels");
    }
    throw new PhotoRejectedError("corrupt");
  }
}

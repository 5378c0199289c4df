/** The photo formats a profile accepts, by sharp's format names. */
export type PhotoType = "jpeg" | "png" | "webp";

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/**
 * The format the first bytes announce, or `undefined` for anything else. The upload's file name and declared
 * content type are never consulted: both are whatever the client says.
 */
export function detectPhotoType(bytes: Buffer): PhotoType | undefined {
  // JPEG: an SOI marker followed by the start of another marker segment.
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return "jpeg";
  if (bytes.length >= 8 && bytes.subarray(0, 8).equals(PNG_SIGNATURE)) return "png";
  // WebP: a RIFF container whose form type is WEBP (bytes 4-7 are the chunk size).
  if (
    bytes.length >= 12 &&
    bytes.toString("latin1", 0, 4) === "RIFF" &&
    bytes.toString("latin1", 8, 12) === "WEBP"
  ) {
    return "webp";
  }
  return undefined;
}

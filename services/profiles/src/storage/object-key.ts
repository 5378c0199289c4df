/**
 * Object keys are made by the caller (`photos/<random>.webp`), yet both adapters check them as if they were
 * hostile: the folder store turns a key into a path, and one `..`, absolute path or odd character would let
 * it read or write outside its folder. The rule is narrower than S3's so that a key means the same thing on
 * every store and on every file system:
 * - lowercase letters, digits, `.`, `_`, `-` and `/` only (no case folding surprises, no shell or URL
 *   escaping, no Unicode normalisation);
 * - `/`-separated segments, none empty, none starting with `.` (no `.` or `..` segment, and the folder store
 *   keeps its temporary and metadata files in names no key can take), and no `..` anywhere;
 * - at most 512 characters, 200 per segment (S3 allows 1024 bytes; file systems allow 255 per name, and the
 *   folder store adds up to 35 characters to a segment for its temporary and metadata files).
 */
const KEY_PATTERN = /^[a-z0-9][a-z0-9._-]*(?:\/[a-z0-9][a-z0-9._-]*)*$/;
const MAX_KEY_LENGTH = 512;
const MAX_SEGMENT_LENGTH = 200;

export class InvalidObjectKeyError extends Error {
  override name = "InvalidObjectKeyError";
}

/** Throws InvalidObjectKeyError unless `key` follows the rule above. */
export function assertValidObjectKey(key: string): void {
  const valid =
    typeof key === "string" &&
    key.length <= MAX_KEY_LENGTH &&
    KEY_PATTERN.test(key) &&
    !key.includes("..") &&
    key.split("/").every((segment) => segment.length <= MAX_SEGMENT_LENGTH);
  if (valid) return;
  throw new InvalidObjectKeyError(`invalid object key: ${JSON.stringify(String(key).slice(0, 80))}`);
}

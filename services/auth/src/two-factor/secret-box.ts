import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { chmod, link, mkdir, readFile, stat, unlink, writeFile } from "node:fs/promises";
import { dirname } from "node:path";

/**
 * AES-256-GCM for small secrets at rest (TOTP secrets; the same box fits sealed signing keys).
 *
 * Sealed form: `v<version>.<iv>.<tag>.<ciphertext>`, each part base64url, a fresh random 96-bit IV per seal
 * and a 128-bit tag. The caller's associated data (for a TOTP secret: `totp:<userId>`) is authenticated, so a
 * sealed value copied to another user's row does not open.
 *
 * Key rotation: the number after `v` names the key that sealed the value. To rotate, configure the new key as
 * `current` with a higher version and keep the old ones in `previous`; `seal` always uses `current`, `open`
 * picks the key by version, and `needsReseal` tells the repository which rows to re-seal (lazily when a row is
 * next read, or in a batch job). When no row reports `needsReseal` any more the old key can be dropped.
 */
export const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;

export interface SecretBoxKey {
  /** Positive integer, written into every value this key seals. */
  version: number;
  key: Uint8Array;
}

/** Thrown for anything that does not open: wrong key, wrong associated data, tampering, unknown version. */
export class SecretBoxError extends Error {
  override name = "SecretBoxError";
}

export class SecretBox {
  readonly #current: SecretBoxKey;
  readonly #keys = new Map<number, Uint8Array>();

  /** A bare key is version 1. */
  constructor(current: Uint8Array | SecretBoxKey, previous: readonly SecretBoxKey[] = []) {
    this.#current = current instanceof Uint8Array ? { version: 1, key: current } : current;
    for (const entry of [this.#current, ...previous]) {
      if (!Number.isSafeInteger(entry.version) || entry.version < 1) {
        throw new RangeError("SecretBox key version must be a positive integer");
      }
      if (entry.key.length !== KEY_BYTES) throw new RangeError(`SecretBox keys must be ${KEY_BYTES} bytes`);
      if (this.#keys.has(entry.version)) throw new RangeError(`key version ${entry.version} is used twice`);
      this.#keys.set(entry.version, Uint8Array.from(entry.key));
    }
  }

  seal(plaintext: string, associatedData: string): string {
    const header = `v${this.#current.version}`;
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv("aes-256-gcm", this.#keys.get(this.#current.version)!, iv, {
      authTagLength: TAG_BYTES,
    });
    cipher.setAAD(aadFor(header, associatedData));
    const ciphertext = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
    const tag = cipher.getAuthTag();
    return [header, iv, tag, ciphertext]
      .map((p) => (typeof p === "string" ? p : p.toString("base64url")))
      .join(".");
  }

  open(sealed: string, associatedData: string): string {
    const parts = sealed.split(".");
    if (parts.length !== 4) throw new SecretBoxError("Malformed sealed value");
    const [header, ivText, tagText, ciphertextText] = parts as [string, string, string, string];
    const key = this.#keys.get(versionOf(header));
    if (!key) throw new SecretBoxError("Sealed with an unknown key version");
    const iv = decodePart(ivText);
    const tag = decodePart(tagText);
    if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES)
      throw new SecretBoxError("Malformed sealed value");
    try {
      const decipher = createDecipheriv("aes-256-gcm", key, iv, { authTagLength: TAG_BYTES });
      decipher.setAAD(aadFor(header, associatedData));
      decipher.setAuthTag(tag);
      return Buffer.concat([decipher.update(decodePart(ciphertextText)), decipher.final()]).toString("utf8");
    } catch {
      // Node's message ("Unsupported state or unable to authenticate data") says nothing more useful.
      throw new SecretBoxError("Sealed value does not open with this key and associated data");
    }
  }

  /** True when `sealed` was made with an older key and should be re-sealed with the current one. */
  needsReseal(sealed: string): boolean {
    return versionOf(sealed.split(".", 1)[0] ?? "") !== this.#current.version;
  }
}

/**
 * The box of the configured keys: `ENCRYPTION_KEY` seals, as `[<version>:]<base64>` (a bare key is version 1),
 * and `ENCRYPTION_KEYS_PREVIOUS`, comma-separated `<version>:<base64>`, only open what older keys sealed.
 * Errors name the variable and the entry's position, never the key material; a version used twice is refused
 * by the box itself.
 */
export function keyRingBox(current: string, previous = ""): SecretBox {
  const entry = (text: string, where: string, versionRequired: boolean): SecretBoxKey => {
    const match = /^(?:(\d{1,9}):)?(.*)$/s.exec(text.trim())!;
    if (!match[1] && versionRequired) throw new RangeError(`${where}: expected <version>:<base64 key>`);
    const version = match[1] ? Number(match[1]) : 1;
    if (version < 1) throw new RangeError(`${where}: the version must be a positive integer`);
    try {
      return { version, key: parseEncryptionKey(match[2]!) };
    } catch (error) {
      throw new RangeError(`${where}: ${(error as Error).message}`, { cause: error });
    }
  };
  return new SecretBox(
    entry(current, "ENCRYPTION_KEY", false),
    previous
      .split(",")
      .filter((part) => part.trim() !== "")
      .map((part, i) => entry(part, `ENCRYPTION_KEYS_PREVIOUS entry ${i + 1}`, true)),
  );
}

/** The configured `ENCRYPTION_KEY`: standard or url-safe base64 of exactly 32 bytes. */
export function parseEncryptionKey(base64: string): Buffer {
  const text = base64.trim();
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(text)) throw new RangeError("Encryption key is not base64");
  const key = Buffer.from(text.replaceAll("-", "+").replaceAll("_", "/"), "base64");
  if (key.length !== KEY_BYTES)
    throw new RangeError(`Encryption key must be ${KEY_BYTES} bytes, got ${key.length}`);
  return key;
}

/**
 * Embedded mode's key: read from `path`, or generated and written there (base64, mode 0600) when missing.
 * The new file is written under a temporary name and then hard-linked into place, which fails instead of
 * overwriting if another process created the key first; the loser then reads the winner's key, so two
 * processes starting together never end up with different keys. A key file readable by others is narrowed
 * to 0600.
 */
export async function loadOrCreateKeyFile(path: string): Promise<Buffer> {
  const existing = await readKeyFile(path);
  if (existing) return existing;
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const temporary = `${path}.${randomBytes(6).toString("hex")}.tmp`;
  await writeFile(temporary, `${randomBytes(KEY_BYTES).toString("base64")}\n`, {
    mode: 0o600,
    flag: "wx",
    flush: true,
  });
  try {
    await link(temporary, path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
  } finally {
    await unlink(temporary);
  }
  const key = await readKeyFile(path);
  if (!key) throw new Error(`Key file ${path} vanished while being created`);
  return key;
}

async function readKeyFile(path: string): Promise<Buffer | undefined> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
  if (((await stat(path)).mode & 0o077) !== 0) await chmod(path, 0o600);
  try {
    return parseEncryptionKey(text);
  } catch (error) {
    throw new Error(`Key file ${path} does not hold a ${KEY_BYTES}-byte base64 key`, { cause: error });
  }
}

/** The header is authenticated too, so a value cannot be relabelled with another version. */
function aadFor(header: string, associatedData: string): Buffer {
  return Buffer.from(`${header}\u0000${associatedData}`, "utf8");
}

function versionOf(header: string): number {
  const match = /^v([1-9][0-9]{0,8})$/.exec(header);
  return match ? Number(match[1]) : Number.NaN;
}

function decodePart(text: string): Buffer {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) throw new SecretBoxError("Malformed sealed value");
  return Buffer.from(text, "base64url");
}

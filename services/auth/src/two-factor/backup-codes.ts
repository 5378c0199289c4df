import { randomBytes } from "node:crypto";
import { hash, verify, type Algorithm } from "@node-rs/argon2";

/**
 * Backup codes: 10 per user, shown once, stored only as argon2id hashes.
 *
 * Alphabet: Crockford's base32 in lower case (0-9 and a-z without i, l, o, u). It has no two symbols that
 * look alike, and input is forgiving the way Crockford specifies: `o` reads as 0, `i` and `l` as 1, case,
 * spaces and the dash do not matter. 32 symbols × 10 characters = exactly 50 random bits per code.
 *
 * Single use under concurrency is the repository's job: it marks a code used with
 * `update backup_codes set used_at = now() where id = $1 and used_at is null` and treats 0 rows updated as a
 * failed attempt, so two requests racing with one code cannot both succeed.
 */
export const BACKUP_CODE_COUNT = 10;
const ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz";
const CODE_LENGTH = 10;
const GROUP_LENGTH = 5;

/**
 * Modest argon2id costs (≈ 4 ms per hash here, against ≈ 13 ms for passwords): a code carries 50 random bits,
 * so even an unsalted fast hash would take an attacker with the database ~2^49 guesses per code; the salt
 * stops one computation serving every user and the memory-hard cost multiplies the rest. Matching tries up to
 * 10 hashes per attempt, so the per-hash cost is kept low to keep a login quick and not hand out cheap CPU
 * exhaustion. Password hashes use the configured, heavier costs because passwords have little entropy.
 */
const HASH_OPTIONS = { algorithm: 2 as Algorithm, memoryCost: 8192, timeCost: 2, parallelism: 1 };

/** `count` distinct fresh codes, formatted `xxxxx-xxxxx`. */
export function generateBackupCodes(count: number = BACKUP_CODE_COUNT): string[] {
  const codes = new Set<string>();
  while (codes.size < count) codes.add(randomCode());
  return [...codes];
}

/**
 * The canonical `xxxxx-xxxxx` form of what a person typed, or null when it cannot be a backup code: lower
 * case, whitespace and dashes (any Unicode dash) removed, look-alikes mapped, then exactly 10 symbols.
 */
export function normalizeBackupCode(input: unknown): string | null {
  if (typeof input !== "string" || input.length > 64) return null;
  const compact = input
    .normalize("NFKC")
    .toLowerCase()
    .replace(/[\s\p{Pd}]+/gu, "")
    .replaceAll("o", "0")
    .replace(/[il]/g, "1");
  if (compact.length !== CODE_LENGTH || ![...compact].every((c) => ALPHABET.includes(c))) return null;
  return `${compact.slice(0, GROUP_LENGTH)}-${compact.slice(GROUP_LENGTH)}`;
}

/** A PHC argon2id string for a code (normalised first); throws for something that is not a backup code. */
export async function hashBackupCode(code: string): Promise<string> {
  const canonical = normalizeBackupCode(code);
  if (canonical === null) throw new RangeError("Not a backup code");
  return hash(canonical, HASH_OPTIONS);
}

export function hashBackupCodes(codes: readonly string[]): Promise<string[]> {
  return Promise.all(codes.map(hashBackupCode));
}

/**
 * The index in `hashes` (the user's unused codes) that `input` matches, or -1. Input that cannot be a
 * backup code costs no hashing.
 */
export async function matchBackupCode(input: unknown, hashes: readonly string[]): Promise<number> {
  const canonical = normalizeBackupCode(input);
  if (canonical === null) return -1;
  for (const [index, stored] of hashes.entries()) {
    if (await verifyQuietly(stored, canonical)) return index;
  }
  return -1;
}

async function verifyQuietly(stored: string, canonical: string): Promise<boolean> {
  try {
    return await verify(stored, canonical);
  } catch {
    return false;
  }
}

function randomCode(): string {
  // 256 is a multiple of 32, so taking the low 5 bits of each byte is unbiased.
  const symbols = [...randomBytes(CODE_LENGTH)].map((byte) => ALPHABET[byte & 31]).join("");
  return `${symbols.slice(0, GROUP_LENGTH)}-${symbols.slice(GROUP_LENGTH)}`;
}

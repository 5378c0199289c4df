import { createHash, randomBytes } from "node:crypto";

/** 256 random bits, base64url: refresh, verification, reset and two-factor tokens. */
export function newOpaqueToken(): string {
  return randomBytes(32).toString("base64url");
}

/**
 * Tokens are stored only as SHA-256 digests. A fast hash is right here (unlike passwords): the input has 256
 * bits of entropy, so there is nothing to brute-force, and lookups must be by exact digest.
 */
export function hashToken(token: string): string {
  return createHash("sha256").update(token).digest("base64url");
}

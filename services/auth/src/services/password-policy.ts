import { ZxcvbnFactory, type DictionaryMatch, type ZxcvbnResult } from "@zxcvbn-ts/core";
import * as common from "@zxcvbn-ts/language-common";
import * as en from "@zxcvbn-ts/language-en";
import { problems } from "../errors.ts";

export const PASSWORD_MIN_LENGTH = 12;
export const PASSWORD_MAX_LENGTH = 128;
/** zxcvbn's 3 = about 10^8 guesses: out of reach of online guessing and costly offline against argon2id. */
export const PASSWORD_MIN_SCORE = 3;
const PRODUCT_WORDS = ["mimascota", "mi mascota"];

/** Why a password is refused: a variant of WEAK_PASSWORD, worded per language in the problem catalogue. */
export type WeakPasswordReason =
  "too_short" | "too_long" | "contains_email" | "contains_product" | "common" | "guessable";

export type PasswordVerdict =
  { ok: true } | { ok: false; reason: WeakPasswordReason; params?: Record<string, number> };

/**
 * The contract's policy (NIST SP 800-63B style): length in code points after NFKC, no composition rules, and
 * refusal of what an attacker would try first: common and breached passwords (zxcvbn's shipped dictionaries),
 * anything built on the email's local part or the product name, and otherwise easily guessed patterns.
 */
export class PasswordPolicy {
  readonly #zxcvbn: ZxcvbnFactory;

  constructor() {
    this.#zxcvbn = new ZxcvbnFactory({
      dictionary: { ...common.dictionary, ...en.dictionary },
      graphs: common.adjacencyGraphs,
      translations: en.translations,
      // zxcvbn is superlinear in length and in l33t substitutions: unbounded, one 128-character password costs
      // ~0.4 s of CPU on an unauthenticated endpoint. Bounded, the worst case measured ~35 ms; the first 64
      // characters decide (a longer password whose first 64 are guessable is refused, which is acceptable).
      maxLength: 64,
      l33tMaxSubstitutions: 8,
    });
  }

  /** Checks a password for the account whose (canonical) email is given. */
  assess(password: string, email: string): PasswordVerdict {
    const normalized = password.normalize("NFKC");
    const length = [...normalized].length;
    if (length < PASSWORD_MIN_LENGTH) {
      return refuse("too_short", { min: PASSWORD_MIN_LENGTH });
    }
    if (length > PASSWORD_MAX_LENGTH) {
      return refuse("too_long", { max: PASSWORD_MAX_LENGTH });
    }
    const localPart = email.split("@")[0] ?? "";
    const lowered = normalized.toLowerCase();
    if (containsWord(lowered, localPart)) {
      return refuse("contains_email");
    }
    if (PRODUCT_WORDS.some((word) => containsWord(lowered, word))) {
      return refuse("contains_product");
    }
    const result = this.#zxcvbn.check(normalized, [localPart, ...PRODUCT_WORDS]);
    if (isCommonPassword(result)) {
      return refuse("common");
    }
    if (result.score < PASSWORD_MIN_SCORE) return refuse("guessable");
    return { ok: true };
  }

  /** Throws WEAK_PASSWORD with the reason when the password is refused. */
  enforce(password: string, email: string): void {
    const verdict = this.assess(password, email);
    if (!verdict.ok) {
      throw problems.error("WEAK_PASSWORD", { variant: verdict.reason, params: verdict.params ?? {} });
    }
  }
}

function refuse(reason: WeakPasswordReason, params?: Record<string, number>): PasswordVerdict {
  return params ? { ok: false, reason, params } : { ok: false, reason };
}

/**
 * Context words are matched case-insensitively and also with separators removed ("Juan.Perez" in
 * "juanperez2024"). Words under 3 characters are ignored: refusing every password containing "jo" would
 * refuse good passwords and protect nothing.
 */
function containsWord(password: string, word: string): boolean {
  const plain = (s: string) => s.toLowerCase().replace(/[^\p{L}\p{N}]/gu, "");
  const w = word.toLowerCase();
  if (w.length >= 3 && password.includes(w)) return true;
  const p = plain(w);
  return p.length >= 3 && plain(password).includes(p);
}

/** The whole password (give or take a few characters) is a listed password, in any case or l33t spelling. */
function isCommonPassword(result: ZxcvbnResult): boolean {
  const length = [...result.password].length;
  return result.sequence.some(
    (match) =>
      match.pattern === "dictionary" &&
      String((match as DictionaryMatch).dictionaryName).startsWith("passwords") &&
      [...match.token].length >= length - 3,
  );
}

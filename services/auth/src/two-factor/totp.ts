import { NobleCryptoPlugin, ScureBase32Plugin, TOTP, generateSecret as generateOtplibSecret } from "otplib";

/**
 * TOTP per RFC 6238 with the parameters every authenticator app supports: HMAC-SHA-1, 6 digits, 30 s steps,
 * T0 = 0. otplib does the arithmetic; this module fixes the parameters, the ±1 step window, the code format
 * and the replay rule, and takes time from the caller (`clock.now()`) so tests move time instead of sleeping.
 */
export const TOTP_ISSUER = "Mi Mascota";
export const TOTP_PERIOD_SECONDS = 30;
export const TOTP_DIGITS = 6;
/** 160 bits, the HMAC-SHA-1 block-friendly size RFC 4226 recommends; 32 base32 characters, no padding. */
export const TOTP_SECRET_BYTES = 20;
/** ±1 step: a code from the previous or next 30 s step is still accepted (clock drift, typing time). */
const WINDOW_STEPS = 1;

/** Only the RFC test vectors use 8 digits; the service always runs with the default 6. */
export type TotpDigits = 6 | 8;

export interface VerifyTotpOptions {
  now: Date;
  /** The last step this user had accepted: a code for that step or an earlier one is a replay. */
  lastUsedStep?: number | null | undefined;
  digits?: TotpDigits;
}

export type VerifyTotpResult = { ok: true; step: number } | { ok: false };

/** otplib's TOTP strategy with its default audited plugins; the class's verify result carries `timeStep`. */
const totp = new TOTP({
  algorithm: "sha1",
  period: TOTP_PERIOD_SECONDS,
  t0: 0,
  crypto: new NobleCryptoPlugin(),
  base32: new ScureBase32Plugin(),
});

export function generateSecret(): string {
  return generateOtplibSecret({ length: TOTP_SECRET_BYTES });
}

/** The TOTP time step that `at` falls in. */
export function totpStep(at: Date): number {
  return Math.floor(epochSeconds(at) / TOTP_PERIOD_SECONDS);
}

/** The code an authenticator app shows at `at`; for tests and tools, the service itself only verifies. */
export function generateTotp(
  secretBase32: string,
  at: Date,
  digits: TotpDigits = TOTP_DIGITS,
): Promise<string> {
  return totp.generate({ secret: secretBase32, digits, epoch: epochSeconds(at) });
}

/**
 * Checks `code` against the steps around `now`. Anything that is not exactly `digits` ASCII digits is refused
 * before any HMAC is computed (otplib would throw on a wrong length; we answer "wrong code" instead). The
 * returned `step` must be stored as the user's new `lastUsedStep` atomically (`… where last_used_step is null
 * or last_used_step < $step`), which is what makes a code single use when two requests race.
 */
export async function verifyTotp(
  secretBase32: string,
  code: unknown,
  options: VerifyTotpOptions,
): Promise<VerifyTotpResult> {
  const digits = options.digits ?? TOTP_DIGITS;
  if (typeof code !== "string" || !codePattern(digits).test(code)) return { ok: false };
  const lastUsedStep = options.lastUsedStep ?? undefined;
  if (lastUsedStep !== undefined && (!Number.isSafeInteger(lastUsedStep) || lastUsedStep < 0)) {
    throw new RangeError("lastUsedStep must be a non-negative integer");
  }
  const epoch = epochSeconds(options.now);
  // otplib throws when afterTimeStep lies beyond the window; every step in the window is then a replay.
  if (lastUsedStep !== undefined && lastUsedStep >= totpStep(options.now) + WINDOW_STEPS)
    return { ok: false };
  const result = await totp.verify(code, {
    secret: secretBase32,
    digits,
    epoch,
    epochTolerance: WINDOW_STEPS * TOTP_PERIOD_SECONDS,
    afterTimeStep: lastUsedStep,
  });
  return result.valid ? { ok: true, step: result.timeStep } : { ok: false };
}

/**
 * Google Authenticator's Key-Uri-Format. The label is `<issuer>:<email>`, each part percent-encoded as a URI
 * component except that `@` stays literal, as in that document's own example
 * (`otpauth://totp/Example:alice@google.com?...`); `+`, spaces, `:` and anything non-ASCII in an address are
 * encoded, so no app reads a `+` as a space or a second colon as the issuer separator.
 */
export function otpauthUrl(email: string, secretBase32: string): string {
  const issuer = encodeURIComponent(TOTP_ISSUER);
  const account = encodeURIComponent(email).replaceAll("%40", "@");
  return (
    `otpauth://totp/${issuer}:${account}?secret=${secretBase32}&issuer=${issuer}` +
    `&algorithm=SHA1&digits=${TOTP_DIGITS}&period=${TOTP_PERIOD_SECONDS}`
  );
}

function epochSeconds(at: Date): number {
  return Math.floor(at.getTime() / 1000);
}

function codePattern(digits: TotpDigits): RegExp {
  return digits === 8 ? /^[0-9]{8}$/ : /^[0-9]{6}$/;
}

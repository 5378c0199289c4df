import fc from "fast-check";
import { FUZZ_2FA_EMAIL, FUZZ_USER } from "./fuzz-platform.ts";
import { hostileString } from "./hostile-values.ts";

export type FieldKind = "email" | "password" | "fullName" | "locale" | "token" | "code";

export interface Endpoint {
  method: "GET" | "POST";
  path: string;
  /** Needs a bearer token at the gateway (anything else is public there). */
  guarded: boolean;
  fields: Record<string, FieldKind>;
}

const AUTH = "/api/v1/auth";
const post = (path: string, fields: Record<string, FieldKind>, guarded = false): Endpoint => ({
  method: "POST",
  path: `${AUTH}/${path}`,
  guarded,
  fields,
});
const get = (path: string): Endpoint => ({
  method: "GET",
  path: `${AUTH}/${path}`,
  guarded: true,
  fields: {},
});

/** Every endpoint of the contract, as reached through the gateway. */
export const ENDPOINTS: readonly Endpoint[] = [
  post("register", { email: "email", password: "password", fullName: "fullName", locale: "locale" }),
  post("verify-email", { token: "token" }),
  post("resend-verification", { email: "email" }),
  post("login", { email: "email", password: "password" }),
  post("login/2fa", { twoFactorToken: "token", code: "code" }),
  post("refresh", {}),
  post("logout", {}),
  get("me"),
  post("forgot-password", { email: "email" }),
  post("reset-password", { token: "token", newPassword: "password" }),
  post("change-password", { currentPassword: "password", newPassword: "password" }, true),
  post("2fa/enable", { password: "password" }, true),
  post("2fa/verify-setup", { code: "code" }, true),
  post("2fa/disable", { password: "password", code: "code" }, true),
  post("2fa/regenerate-backup-codes", { code: "code" }, true),
  get("2fa/status"),
  { method: "GET", path: "/.well-known/jwks.json", guarded: false, fields: {} },
];

const localPart = fc.stringMatching(/^[a-z0-9][a-z0-9._+-]{0,20}$/);

/**
 * Values of the right type that come near the rules: real-looking emails (the fuzz account's among them),
 * weak and strong passwords, token- and code-shaped strings. They get the fuzz past type checks into the
 * services; the real account's password is never produced, so no fuzz input can change that account.
 */
const plausible: Record<FieldKind, fc.Arbitrary<string>> = {
  email: fc.oneof(
    fc.constant(FUZZ_USER.email),
    fc.constant(FUZZ_2FA_EMAIL),
    fc.constant(FUZZ_USER.email.toUpperCase()),
    fc.constant(`  ${FUZZ_USER.email}  `),
    localPart.map((l) => `${l}@example.com`),
    fc.emailAddress(),
  ),
  password: fc.oneof(
    fc.constantFrom("password", "123456789012", "mimascota mimascota", "fuzz-owner password 1"),
    fc.string({ minLength: 12, maxLength: 40 }),
    fc.string({ unit: "grapheme", minLength: 12, maxLength: 20 }),
  ),
  fullName: fc.oneof(fc.string({ maxLength: 60 }), fc.string({ maxLength: 120 })),
  locale: fc.constantFrom("es", "en", "es", "en", "fr", "ES", ""),
  token: fc.oneof(fc.base64String({ maxLength: 64 }), fc.stringMatching(/^[A-Za-z0-9_-]{43}$/)),
  code: fc.oneof(
    fc.stringMatching(/^[0-9]{6}$/),
    fc.stringMatching(/^[a-z0-9]{5}-[a-z0-9]{5}$/),
    fc.integer({ min: 0, max: 999_999 }).map(String),
  ),
};

/** A field's value: near the rules (or one of the `real` values), hostile, or of any JSON type. */
export function fieldValue(
  kind: FieldKind,
  anyJson: fc.Arbitrary<unknown>,
  real: readonly string[] = [],
): fc.Arbitrary<unknown> {
  return fc.oneof(
    {
      weight: 3,
      arbitrary: real.length > 0 ? fc.oneof(plausible[kind], fc.constantFrom(...real)) : plausible[kind],
    },
    { weight: 2, arbitrary: hostileString },
    { weight: 2, arbitrary: anyJson },
  );
}

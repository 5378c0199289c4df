import type { ProblemText } from "@mimascota/shared/i18n/problem-text";

/** The auth service's problem texts in English. */
export const authProblemsEn = {
  WEAK_PASSWORD: {
    title: "Password does not meet the policy",
    detail: "Choose a stronger password.",
    variants: {
      too_short: "The password must be at least {min} characters long.",
      too_long: "The password must be at most {max} characters long.",
      contains_email: "The password must not contain your email address or its name part.",
      contains_product: "The password must not contain the product name.",
      common: "This password is too common: it appears in lists of leaked and frequently used passwords.",
      guessable: "This password is too easy to guess. Try a longer phrase of unrelated words.",
    },
  },
  INVALID_TOKEN: {
    title: "Invalid or expired token",
    detail: "The link is invalid, already used or expired. Ask for a new one.",
  },
  INVALID_CREDENTIALS: { title: "Invalid email or password", detail: "The email or password is incorrect." },
  EMAIL_NOT_VERIFIED: {
    title: "Email address not verified",
    detail: "Confirm your email address with the link we sent, then sign in.",
  },
  INVALID_REFRESH_TOKEN: {
    title: "Invalid refresh token",
    detail: "The refresh token is invalid or expired. Sign in again.",
  },
  REFRESH_TOKEN_REUSED: {
    title: "Refresh token reused",
    detail: "This refresh token was already used; the session has ended.",
  },
  REFRESH_TOKEN_STALE: {
    title: "Refresh token already rotated",
    detail: "This refresh token was just rotated; use the newer one.",
  },
  CROSS_SITE_REQUEST: {
    title: "Cross-site request refused",
    detail: "Cross-site requests may not use the session cookie.",
    variants: { origin: "This origin may not use the session cookie." },
  },
  INVALID_CURRENT_PASSWORD: {
    title: "Current password is incorrect",
    detail: "The current password is incorrect.",
  },
  REAUTHENTICATION_REQUIRED: {
    title: "Confirm it is you",
    detail: "For your security, enter your password (or sign in again) to make this change.",
  },
  INVALID_2FA_CODE: {
    title: "Invalid two-factor code",
    detail: "The code is not valid. Use the current code or a backup code.",
    variants: { setup: "The code is not valid. Use the current code from your authenticator app." },
  },
  INVALID_2FA_TOKEN: {
    title: "Invalid or expired two-factor token",
    detail: "The sign-in step has expired or was already used. Sign in again.",
  },
  TOO_MANY_ATTEMPTS: {
    title: "Too many attempts",
    detail: "Too many wrong codes. Try again later.",
    variants: { current_password: "Too many attempts with a wrong current password. Try again later." },
  },
  TWO_FACTOR_ALREADY_ENABLED: {
    title: "Two-factor authentication already enabled",
    detail: "Two-factor authentication is already enabled.",
  },
  TWO_FACTOR_NOT_PENDING: {
    title: "No two-factor setup is pending",
    detail: "There is no two-factor setup to confirm; start with enable.",
  },
  TWO_FACTOR_NOT_ENABLED: {
    title: "Two-factor authentication is not enabled",
    detail: "Two-factor authentication is not enabled for this account.",
  },
  TWO_FACTOR_SECRET_MISMATCH: {
    title: "Secret does not match",
    detail: "The secret does not match the pending setup's; start again.",
  },
  UNDERAGE: {
    title: "Under the minimum age",
    detail: "You must be at least {minAge} years old to register.",
  },
} satisfies Record<string, ProblemText>;

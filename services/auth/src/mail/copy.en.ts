import type { MailCopy } from "./mail-content.ts";

const hello = (name: string | null) => (name ? `Hello ${name},` : "Hello,");
const closing = "The Mi Mascota team";
const notYou = "If this wasn't you, reset your password now and review your account's security.";

export const copyEn: MailCopy = {
  "verify-email": (v) => ({
    subject: "Confirm your email address",
    heading: hello(v.name),
    paragraphs: [
      "Thanks for signing up for Mi Mascota. Confirm your email address to be able to sign in.",
      `The link expires in ${v.validHours} hours and works only once.`,
      "If you did not create this account, ignore this message.",
    ],
    action: { label: "Confirm my email", url: v.link },
    closing,
  }),
  "already-registered": (v) => ({
    subject: "Someone tried to sign up with your email",
    heading: hello(v.name),
    paragraphs: [
      "Someone (maybe you) tried to create a Mi Mascota account with this email address, but you already have one.",
      `You can sign in at ${v.loginLink}. If you forgot your password, you can reset it.`,
      "If this wasn't you, there is nothing to do: your account has not changed.",
    ],
    action: { label: "Reset my password", url: v.resetLink },
    closing,
  }),
  "reset-password": (v) => ({
    subject: "Reset your password",
    heading: hello(v.name),
    paragraphs: [
      "We received a request to reset the password of your Mi Mascota account.",
      `The link expires in ${v.validMinutes} minutes and works only once.`,
      "If you did not ask for this, ignore this message: your password will not change.",
    ],
    action: { label: "Choose a new password", url: v.link },
    closing,
  }),
  "password-changed": (v, when) => ({
    subject: "Your password was changed",
    heading: hello(v.name),
    paragraphs: [
      `The password of your Mi Mascota account was changed on ${when(v.at)}. Your other sessions were signed out.`,
      notYou,
    ],
    action: { label: "Reset my password", url: v.resetLink },
    closing,
  }),
  "account-locked": (v, when) => ({
    subject: "Your account is temporarily locked",
    heading: hello(v.name),
    paragraphs: [
      "There were too many failed sign-in attempts on your Mi Mascota account.",
      `To protect it, signing in is blocked until ${when(v.until)}.`,
      "Resetting your password unlocks the account at once.",
    ],
    action: { label: "Reset my password", url: v.resetLink },
    closing,
  }),
  "two-factor-enabled": (v, when) => ({
    subject: "Two-step verification turned on",
    heading: hello(v.name),
    paragraphs: [
      `Two-step verification was turned on for your Mi Mascota account on ${when(v.at)}.`,
      "Keep your backup codes somewhere safe.",
      notYou,
    ],
    action: { label: "Reset my password", url: v.resetLink },
    closing,
  }),
  "account-deleted": (v, when) => ({
    subject: "Your Mi Mascota account was deleted",
    heading: hello(v.name),
    paragraphs: [
      `Your Mi Mascota account and its data were deleted on ${when(v.at)}, as you asked. Every session was signed out.`,
      "You can register again with this address whenever you like.",
      "If this was not you, someone had access to your account: check your email account's security.",
    ],
    closing,
  }),
  "two-factor-disabled": (v, when) => ({
    subject: "Two-step verification turned off",
    heading: hello(v.name),
    paragraphs: [
      `Two-step verification was turned off for your Mi Mascota account on ${when(v.at)}.`,
      notYou,
    ],
    action: { label: "Reset my password", url: v.resetLink },
    closing,
  }),
};

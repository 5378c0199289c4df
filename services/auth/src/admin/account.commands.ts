import { command, fields } from "./admin-command.ts";

export const findCommand = command({
  name: "find",
  changes: false,
  summary: "the account: verified, role, 2FA, lockout, sessions",
  run: (support, request) => support.find(request),
  describe: (account) =>
    fields({
      id: account.id,
      email: account.email,
      name: account.fullName,
      role: account.role,
      locale: account.locale,
      verified: account.emailVerifiedAt ?? false,
      "2fa": account.twoFactor.enabled
        ? `on since ${account.twoFactor.enabledAt?.toISOString()}`
        : account.twoFactor.pending
          ? "off (a setup is pending)"
          : "off",
      created: account.createdAt,
      "locked until": account.lockout.lockedUntil ?? "not locked",
      "failed attempts": account.lockout.failedAttempts,
      "active sessions": account.activeSessions,
    }),
});

export const unlockCommand = command({
  name: "unlock",
  changes: true,
  summary: "lift a login lock and forget the failed attempts",
  run: (support, request) => support.unlock(request),
  describe: (before, { email }) => [
    before.wasLocked
      ? `Unlocked ${email} (was locked until ${before.lockedUntil?.toISOString()}).`
      : `${email} was not locked; its ${before.failedAttempts} failed attempt(s) are forgotten.`,
  ],
});

export const resendVerificationCommand = command({
  name: "resend-verification",
  changes: true,
  summary: "queue a new verification mail (the previous link stops working)",
  run: (support, request) => support.resendVerification(request),
  describe: (_value, { email }) => [
    `A new verification mail to ${email} is queued; the service's mail worker sends it (the old link is void).`,
  ],
});

export const markVerifiedCommand = command({
  name: "mark-verified",
  changes: true,
  summary: "mark the email verified (publishes user.verified.v1)",
  run: (support, request) => support.markVerified(request),
  describe: (value, { email }) => [
    value.alreadyVerified
      ? `${email} was already verified; nothing changed.`
      : `${email} is verified now; user.verified.v1 is in the outbox.`,
  ],
});

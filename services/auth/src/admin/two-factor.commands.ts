import { command, revocationNotice } from "./admin-command.ts";

export const resetTwoFactorCommand = command({
  name: "reset-2fa",
  changes: true,
  summary: "turn 2FA off (secret, backup codes, sessions), mail the user",
  run: (support, request) => support.resetTwoFactor(request),
  describe: (value, { email, kv }) => [
    `Two-factor authentication is off for ${email}: secret and backup codes deleted,`,
    `${value.revokedSessions.length} session(s) revoked, a mail to the user queued, user.2fa_disabled.v1 in the outbox.`,
    ...revocationNotice(kv, value.revokedSessions.length),
  ],
});

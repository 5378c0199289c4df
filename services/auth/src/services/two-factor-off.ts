import type { Transaction } from "@mimascota/shared/db/database";
import { enqueueEvent } from "@mimascota/shared/events/outbox";
import type { AccountMailer } from "../mail/account-mailer.ts";
import type { BackupCodeRepository } from "../repositories/backup-code.repository.ts";
import type { TwoFactorRepository } from "../repositories/two-factor.repository.ts";
import type { MailRecipient } from "../repositories/user.repository.ts";
import { EVENT_SOURCE, type SessionRevoker } from "./account-ports.ts";

export interface TwoFactorChangeDeps {
  sessions: SessionRevoker;
  mailer: AccountMailer;
}

export type TwoFactorOffDeps = TwoFactorChangeDeps & {
  credentials: TwoFactorRepository;
  backupCodes: BackupCodeRepository;
};

/** Whose 2FA changes; the mail names them only if their address is known to be verified (`AccountMailer`). */
export type TwoFactorUser = Pick<MailRecipient, "id" | "email" | "fullName" | "locale"> & {
  emailVerifiedAt?: Date | null;
};

/**
 * Inside the change's transaction: the user's sessions end (all but `exceptSessionId`, the caller's own), so a
 * thief signed in elsewhere is out; the owner is told by mail, other services by event. Returns the revoked
 * session ids.
 */
export async function announceTwoFactorChange(
  tx: Transaction,
  deps: TwoFactorChangeDeps,
  user: TwoFactorUser,
  change: "enabled" | "disabled",
  options: { now: Date; exceptSessionId?: string; reason?: string },
): Promise<string[]> {
  const { now, exceptSessionId } = options;
  const revoked = await deps.sessions.revokeAllForUser(tx, user.id, {
    ...(exceptSessionId === undefined ? {} : { exceptSessionId }),
    reason: options.reason ?? `two_factor_${change}`,
  });
  await deps.mailer.queue(tx, user, `two-factor-${change}`, {
    name: user.fullName,
    at: now,
    resetLink: deps.mailer.links.forgotPassword(),
  });
  await enqueueEvent(tx, EVENT_SOURCE, {
    topic: `user.2fa_${change}.v1`,
    key: user.id,
    data: { userId: user.id, [`${change}At`]: now.toISOString(), revokedSessions: revoked.length },
    occurredAt: now,
  });
  return revoked;
}

/**
 * Turns a confirmed 2FA off in `tx`: the secret and every backup code deleted, then announced as above (the
 * owner's disable, and support's `reset-2fa`). Undefined, and nothing changed, when 2FA was not on.
 */
export async function turnTwoFactorOff(
  tx: Transaction,
  deps: TwoFactorOffDeps,
  user: TwoFactorUser,
  options: { now: Date; exceptSessionId?: string; reason?: string },
): Promise<string[] | undefined> {
  if (!(await deps.credentials.removeConfirmed(tx, user.id))) return undefined;
  await deps.backupCodes.deleteAll(tx, user.id);
  return announceTwoFactorChange(tx, deps, user, "disabled", options);
}

import { randomUUID } from "node:crypto";
import type { Clock } from "@mimascota/shared/clock";
import type { UnitOfWork } from "@mimascota/shared/db/unit-of-work";
import { enqueueEvent } from "@mimascota/shared/events/outbox";
import type { AuthSettings } from "../config.ts";
import { hashToken, newOpaqueToken } from "../crypto/opaque-token.ts";
import type { PasswordHasher } from "../crypto/password-hasher.ts";
import { problems } from "../errors.ts";
import type { AccountMailer } from "../mail/account-mailer.ts";
import type { OneTimeTokenRepository } from "../repositories/one-time-token.repository.ts";
import type { UserRepository } from "../repositories/user.repository.ts";
import { EVENT_SOURCE, type AccountUnlocker, type SessionRevoker } from "./account-ports.ts";
import type { CurrentPasswordCheck } from "./current-password.ts";
import type { PasswordPolicy } from "./password-policy.ts";
import { withUniformDuration } from "./uniform-duration.ts";

export interface PasswordDeps {
  clock: Clock;
  settings: Pick<AuthSettings, "accountTokens">;
  currentPassword: CurrentPasswordCheck;
  users: UserRepository;
  tokens: OneTimeTokenRepository;
  mailer: AccountMailer;
  policy: PasswordPolicy;
  hasher: PasswordHasher;
  sessions: SessionRevoker;
  throttles: AccountUnlocker;
  /** Runs the transactions: after commit it wakes the mail and event workers and runs the hooks (revocations). */
  work: UnitOfWork;
}

/** Forgot/reset (proof by mailbox) and change (proof by current password). */
export class PasswordService {
  readonly #deps: PasswordDeps;

  constructor(deps: PasswordDeps) {
    this.#deps = deps;
  }

  /**
   * Always the same answer after the same time; only a known email gets a link (voiding any earlier one), at
   * most one per RESEND_COOLDOWN.
   */
  forgot(email: string): Promise<void> {
    return withUniformDuration(this.#deps.settings.accountTokens.responseFloorMs, () => this.#forgot(email));
  }

  async #forgot(email: string): Promise<void> {
    const { work, clock, users, tokens, mailer } = this.#deps;
    const settings = this.#deps.settings.accountTokens;
    const user = await users.findRecipientByEmail(email);
    if (!user) return;
    await work.run(async (tx) => {
      // Same cooldown as verification resends, so repeated requests cannot flood the owner's mailbox; the
      // row lock makes concurrent requests see each other's token. The link already sent stays valid.
      if (!(await users.lockForUpdate(tx, user.id))) return false;
      const now = clock.now();
      const last = await tokens.lastIssuedAt(tx, user.id, "reset_password");
      if (last && now.getTime() - last.getTime() < settings.resendCooldownMs) return false;
      const token = newOpaqueToken();
      await tokens.issue(tx, {
        id: randomUUID(),
        userId: user.id,
        purpose: "reset_password",
        tokenHash: hashToken(token),
        createdAt: now,
        expiresAt: new Date(now.getTime() + settings.resetTtlMs),
      });
      await mailer.queue(tx, user, "reset-password", {
        name: user.fullName,
        link: mailer.links.resetPassword(token),
        validMinutes: Math.max(1, Math.round(settings.resetTtlMs / 60_000)),
      });
      return true;
    });
  }

  /** Whether a reset link would still set a password (for the reset page, which opens on it); spends nothing. */
  async resetLinkUsable(token: string): Promise<boolean> {
    const userId = await this.#deps.tokens.findUsable(
      "reset_password",
      hashToken(token),
      this.#deps.clock.now(),
    );
    return userId !== undefined && userId !== null;
  }

  /**
   * Sets a new password from a reset link: every session ends, a lockout is lifted, and 2FA stays on (the
   * mailbox proves only one factor). The address counts as verified: the link reached it.
   */
  async reset(token: string, newPassword: string): Promise<void> {
    const { work, clock, users, tokens, mailer, hasher } = this.#deps;
    const tokenHash = hashToken(token);
    // Checked before it is spent, so a refused password does not burn the link.
    const pendingUserId = await tokens.findUsable("reset_password", tokenHash, clock.now());
    const pending = pendingUserId ? await users.findRecipientById(pendingUserId) : undefined;
    if (!pending) throw problems.error("INVALID_TOKEN");
    this.#deps.policy.enforce(newPassword, pending.email);
    const passwordHash = await hasher.hash(newPassword);
    const now = clock.now();
    await work.run(async (tx) => {
      // The atomic use decides between concurrent resets with one link: exactly one gets here.
      const userId = await tokens.consume(tx, "reset_password", tokenHash, now);
      if (userId !== pending.id) throw problems.error("INVALID_TOKEN");
      await users.setPasswordHash(tx, userId, passwordHash, now);
      const revoked = await this.#deps.sessions.revokeAllForUser(tx, userId, { reason: "password_reset" });
      await this.#deps.throttles.unlock(tx, pending.email);
      const newlyVerified = await users.markEmailVerified(tx, userId, now);
      if (newlyVerified) {
        await enqueueEvent(tx, EVENT_SOURCE, {
          topic: "user.verified.v1",
          key: userId,
          data: { userId, email: pending.email, verifiedAt: now.toISOString() },
          occurredAt: now,
        });
      }
      await enqueueEvent(tx, EVENT_SOURCE, {
        topic: "user.password_reset.v1",
        key: userId,
        data: { userId, resetAt: now.toISOString(), revokedSessions: revoked.length },
        occurredAt: now,
      });
      await mailer.queue(tx, pending, "password-changed", {
        name: pending.fullName,
        at: now,
        resetLink: mailer.links.forgotPassword(),
      });
    });
  }

  /**
   * Needs the current password; ends every other session of the user, voids any reset link still out (one
   * sent before the change must not undo it), and tells the owner by mail.
   */
  async change(auth: { userId: string; sessionId: string }, currentPassword: string, newPassword: string) {
    const { work, clock, users, tokens, mailer, hasher } = this.#deps;
    const user = await this.#deps.currentPassword.verify(auth.userId, currentPassword);
    this.#deps.policy.enforce(newPassword, user.email);
    // Hashed with today's parameters, so a change also upgrades an old hash.
    const passwordHash = await hasher.hash(newPassword);
    const now = clock.now();
    await work.run(async (tx) => {
      await users.setPasswordHash(tx, user.id, passwordHash, now);
      await tokens.voidUnused(tx, user.id, "reset_password", now);
      const ids = await this.#deps.sessions.revokeAllForUser(tx, user.id, {
        exceptSessionId: auth.sessionId,
        reason: "password_changed",
      });
      await enqueueEvent(tx, EVENT_SOURCE, {
        topic: "user.password_changed.v1",
        key: user.id,
        data: { userId: user.id, changedAt: now.toISOString(), revokedSessions: ids.length },
        occurredAt: now,
      });
      await mailer.queue(tx, user, "password-changed", {
        name: user.fullName,
        at: now,
        resetLink: mailer.links.forgotPassword(),
      });
    });
  }
}

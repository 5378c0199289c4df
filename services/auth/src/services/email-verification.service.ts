import { randomUUID } from "node:crypto";
import type { Clock } from "@mimascota/shared/clock";
import type { Transaction } from "@mimascota/shared/db/database";
import type { UnitOfWork } from "@mimascota/shared/db/unit-of-work";
import { enqueueEvent } from "@mimascota/shared/events/outbox";
import type { AuthSettings } from "../config.ts";
import { hashToken, newOpaqueToken } from "../crypto/opaque-token.ts";
import { problems } from "../errors.ts";
import type { AccountMailer } from "../mail/account-mailer.ts";
import type { OneTimeTokenRepository } from "../repositories/one-time-token.repository.ts";
import type { MailRecipient, UserRepository } from "../repositories/user.repository.ts";
import { EVENT_SOURCE } from "./account-ports.ts";
import { withUniformDuration } from "./uniform-duration.ts";

export interface EmailVerificationDeps {
  clock: Clock;
  settings: Pick<AuthSettings, "accountTokens">;
  users: UserRepository;
  tokens: OneTimeTokenRepository;
  mailer: AccountMailer;
  /** Runs the transactions: after commit it wakes the mail and event workers and runs the hooks (revocations). */
  work: UnitOfWork;
}

export class EmailVerificationService {
  readonly #deps: EmailVerificationDeps;

  constructor(deps: EmailVerificationDeps) {
    this.#deps = deps;
  }

  /** Unknown, used, voided and expired tokens all fail alike, so a failure says nothing about the token. */
  async verify(token: string): Promise<void> {
    const { work, clock, tokens } = this.#deps;
    const now = clock.now();
    await work.run(async (tx) => {
      const userId = await tokens.consume(tx, "verify_email", hashToken(token), now);
      if (!userId) throw problems.error("INVALID_TOKEN");
      return this.markVerified(tx, userId, now);
    });
  }

  /**
   * Marks the address verified in `tx` and publishes `user.verified.v1` with it (also support's
   * `mark-verified`). False when it already was (e.g. by a password reset): no second event then.
   */
  async markVerified(tx: Transaction, userId: string, now: Date): Promise<boolean> {
    const { users } = this.#deps;
    if (!(await users.markEmailVerified(tx, userId, now))) return false;
    const user = await users.findRecipientById(userId, tx);
    await enqueueEvent(tx, EVENT_SOURCE, {
      topic: "user.verified.v1",
      key: userId,
      data: { userId, email: user?.email, verifiedAt: now.toISOString() },
      occurredAt: now,
    });
    return true;
  }

  /**
   * Always the same answer (the route's 202). Only an existing, unverified account outside its cooldown gets a
   * new link; the new token voids the previous one.
   */
  resend(email: string): Promise<void> {
    return withUniformDuration(this.#deps.settings.accountTokens.responseFloorMs, () => this.#resend(email));
  }

  async #resend(email: string): Promise<void> {
    const user = await this.#deps.users.findRecipientByEmail(email);
    if (!user || user.emailVerifiedAt) return;
    await this.#deps.work.run((tx) => this.sendLink(tx, user));
  }

  /**
   * Issues a new link (voiding the previous one) and queues its mail in `tx` (also support's
   * `resend-verification`); false, and nothing sent, within the cooldown of the last one or when the account
   * is gone.
   */
  async sendLink(tx: Transaction, user: MailRecipient): Promise<boolean> {
    const { clock, users, tokens, mailer } = this.#deps;
    const settings = this.#deps.settings.accountTokens;
    // The row lock serialises concurrent resends for one account, so the cooldown check below sees the
    // token a concurrent request just issued and at most one mail goes out per cooldown.
    if (!(await users.lockForUpdate(tx, user.id))) return false;
    const now = clock.now();
    const last = await tokens.lastIssuedAt(tx, user.id, "verify_email");
    if (last && now.getTime() - last.getTime() < settings.resendCooldownMs) return false;
    const token = newOpaqueToken();
    await tokens.issue(tx, {
      id: randomUUID(),
      userId: user.id,
      purpose: "verify_email",
      tokenHash: hashToken(token),
      createdAt: now,
      expiresAt: new Date(now.getTime() + settings.verificationTtlMs),
    });
    await mailer.queue(tx, user, "verify-email", {
      name: user.fullName,
      link: mailer.links.verifyEmail(token),
      validHours: Math.max(1, Math.round(settings.verificationTtlMs / 3_600_000)),
    });
    return true;
  }
}

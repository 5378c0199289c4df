import type { Clock } from "@mimascota/shared/clock";
import type { UnitOfWork } from "@mimascota/shared/db/unit-of-work";
import { enqueueEvent } from "@mimascota/shared/events/outbox";
import { problems } from "../errors.ts";
import type { AccountMailer } from "../mail/account-mailer.ts";
import type { LoginThrottleRepository } from "../repositories/login-throttle.repository.ts";
import type { Profile, UserRepository } from "../repositories/user.repository.ts";
import { EVENT_SOURCE, type SessionRevoker } from "./account-ports.ts";
import type { CurrentPasswordCheck } from "./current-password.ts";

export interface AccountDeps {
  clock: Clock;
  users: UserRepository;
  throttles: LoginThrottleRepository;
  currentPassword: CurrentPasswordCheck;
  sessions: SessionRevoker;
  mailer: AccountMailer;
  /** Runs the transactions: after commit it wakes the mail and event workers and runs the hooks (revocations). */
  work: UnitOfWork;
}

/** The signed-in user's own account: what `/me` shows, and its deletion. */
export class AccountService {
  readonly #deps: AccountDeps;

  constructor(deps: AccountDeps) {
    this.#deps = deps;
  }

  /** The contract's `user` object, or undefined when the account is gone. */
  profile(userId: string): Promise<Profile | undefined> {
    return this.#deps.users.getProfile(userId);
  }

  /**
   * `DELETE /me`: the account and everything of it here, in one transaction with the confirmation mail and
   * the `user.deleted.v1` event (other services delete their data on it, the profile service first). The
   * password is needed unless the session signed in within RECENT_AUTH_WINDOW. The sessions are revoked before
   * the rows go, so the gateway refuses their access tokens at once; the same email can register again.
   */
  async delete(auth: { userId: string; sessionId: string }, password: string | undefined): Promise<void> {
    const user = await this.#deps.currentPassword.verifyOrRecent(auth, password);
    const { work, users, throttles, mailer } = this.#deps;
    await work.run(async (tx) => {
      const now = this.#deps.clock.now();
      await this.#deps.sessions.revokeAllForUser(tx, user.id, {
        reason: "account_deleted",
      });
      // Mailed to the address that is leaving (the queue row outlives the account, like the event).
      await mailer.queue(tx, user, "account-deleted", { name: user.fullName, at: now });
      await enqueueEvent(tx, EVENT_SOURCE, {
        topic: "user.deleted.v1",
        key: user.id,
        data: { userId: user.id, deletedAt: now.toISOString() },
        occurredAt: now,
      });
      await throttles.unlock(tx, user.email);
      if (!(await users.delete(tx, user.id))) throw problems.error("UNAUTHORIZED");
    });
  }
}

import type { Clock } from "@mimascota/shared/clock";
import type { Transaction } from "@mimascota/shared/db/database";
import type { UnitOfWork } from "@mimascota/shared/db/unit-of-work";
import { isLocked } from "../domain/lockout-policy.ts";
import type { AdminAuditRepository, AuditOutcome } from "../repositories/admin-audit.repository.ts";
import type { LoginThrottleRepository } from "../repositories/login-throttle.repository.ts";
import type { SupportAccount, SupportRepository } from "../repositories/support.repository.ts";
import type { EmailVerificationService } from "./email-verification.service.ts";
import type { SessionService } from "./session.service.ts";
import { turnTwoFactorOff, type TwoFactorOffDeps } from "./two-factor-off.ts";

export interface SupportDeps {
  work: UnitOfWork;
  clock: Clock;
  support: SupportRepository;
  audit: AdminAuditRepository;
  throttles: LoginThrottleRepository;
  verification: EmailVerificationService;
  sessions: SessionService;
  /** The owner's own 2FA disable is what a reset does too. */
  twoFactor: TwoFactorOffDeps;
}

/** Who asks, about which account (canonical email). */
export interface SupportRequest {
  actor: string;
  email: string;
}

export type RefusalReason = "already_verified" | "cooldown" | "no_such_session" | "two_factor_off";

export type SupportResult<T> =
  { outcome: "done"; value: T } | { outcome: "refused"; reason: RefusalReason } | { outcome: "not_found" };

/** What `change` decided: the result, and what the audit record keeps of it (ids, counts; never a secret). */
type Step<T> = { result: SupportResult<T>; details?: Record<string, unknown> };

const done = <T>(value: T, details?: Record<string, unknown>): Step<T> => ({
  result: { outcome: "done", value },
  ...(details ? { details } : {}),
});
const refused = (reason: RefusalReason): Step<never> => ({ result: { outcome: "refused", reason } });

/**
 * What support staff may do for a user (the admin CLI): each command runs in one transaction with its audit
 * record, so a change is never without its record, nor a record without its change. Reads are recorded too:
 * looking at someone's account is processing their personal data. The rules are the owner's own flows'
 * (verification, session revocation, 2FA disable), called here, not copied.
 */
export class SupportService {
  readonly #deps: SupportDeps;

  constructor(deps: SupportDeps) {
    this.#deps = deps;
  }

  find(request: SupportRequest) {
    return this.#act("find", request, async (tx, account, now) =>
      done(await this.#summary(tx, account, now)),
    );
  }

  /** Lifts the lock and forgets the failures and lock history, as a password reset does. */
  unlock(request: SupportRequest) {
    return this.#act("unlock", request, async (tx, account, now) => {
      const state = await this.#deps.throttles.find(account.email, tx);
      await this.#deps.throttles.unlock(tx, account.email);
      const before = {
        wasLocked: isLocked(state, now),
        lockedUntil: state?.lockedUntil ?? null,
        failedAttempts: state?.failureCount ?? 0,
      };
      return done(before, before);
    });
  }

  resendVerification(request: SupportRequest) {
    return this.#act("resend-verification", request, async (tx, account) => {
      if (account.emailVerifiedAt) return refused("already_verified");
      if (!(await this.#deps.verification.sendLink(tx, account))) return refused("cooldown");
      return done({ queued: true });
    });
  }

  markVerified(request: SupportRequest) {
    return this.#act("mark-verified", request, async (tx, account, now) => {
      const changed = await this.#deps.verification.markVerified(tx, account.id, now);
      return done({ alreadyVerified: !changed }, { alreadyVerified: !changed });
    });
  }

  sessions(request: SupportRequest) {
    return this.#act("sessions", request, async (tx, account, now) =>
      done(await this.#deps.support.sessions(tx, account.id, { now })),
    );
  }

  revokeSession(request: SupportRequest, sessionId: string) {
    return this.#act("revoke-session", request, async (tx, account) => {
      const revoked = await this.#deps.sessions.revokeSession(
        tx,
        account.id,
        sessionId,
        "revoked_by_support",
      );
      return revoked ? done({ sessionId }, { sessionId }) : refused("no_such_session");
    });
  }

  revokeSessions(request: SupportRequest) {
    return this.#act("revoke-sessions", request, async (tx, account) => {
      const ids = await this.#deps.sessions.revokeAllForUser(tx, account.id, {
        reason: "revoked_by_support",
      });
      return done({ sessionIds: ids }, { sessionIds: ids });
    });
  }

  /** As the owner's disable, but every session ends (support has none of the user's to keep). */
  resetTwoFactor(request: SupportRequest) {
    return this.#act("reset-2fa", request, async (tx, account, now) => {
      const revoked = await turnTwoFactorOff(tx, this.#deps.twoFactor, account, {
        now,
        reason: "two_factor_reset_by_support",
      });
      return revoked
        ? done({ revokedSessions: revoked }, { revokedSessions: revoked })
        : refused("two_factor_off");
    });
  }

  /** The right of access: what is stored about the user here, without hashes, token digests or secrets. */
  export(request: SupportRequest) {
    return this.#act("export", request, async (tx, account, now) => {
      const { support } = this.#deps;
      const { lockout, twoFactor, activeSessions } = await this.#summary(tx, account, now);
      return done({
        exportedAt: now,
        account: { ...account, activeSessions },
        lockout,
        twoFactor,
        sessions: await support.sessions(tx, account.id, { now, all: true }),
        mails: await support.mailsTo(tx, account.email),
        events: await support.eventsAbout(tx, account.id),
      });
    });
  }

  async #summary(tx: Transaction, account: SupportAccount, now: Date) {
    const { throttles, support, twoFactor } = this.#deps;
    const throttle = await throttles.find(account.email, tx);
    const credential = await twoFactor.credentials.find(account.id, tx);
    const enabled = account.twoFactorEnabledAt !== null;
    return {
      ...account,
      lockout: {
        locked: isLocked(throttle, now),
        lockedUntil: isLocked(throttle, now) ? (throttle?.lockedUntil ?? null) : null,
        failedAttempts: throttle?.failureCount ?? 0,
      },
      twoFactor: {
        enabled,
        enabledAt: account.twoFactorEnabledAt,
        pending: credential !== undefined && credential.confirmedAt === null,
        backupCodesRemaining: enabled ? await twoFactor.backupCodes.countUnused(account.id, tx) : 0,
      },
      activeSessions: await support.countLiveSessions(tx, account.id, now),
    };
  }

  /** Runs one command on the account the email names, in one transaction with its audit record. */
  async #act<T>(
    command: string,
    request: SupportRequest,
    change: (tx: Transaction, account: SupportAccount, now: Date) => Promise<Step<T>>,
  ): Promise<SupportResult<T>> {
    const { work, clock, support, audit } = this.#deps;
    return work.run(async (tx) => {
      const now = clock.now();
      const account = await support.findAccount(tx, request.email);
      const step: Step<T> = account ? await change(tx, account, now) : { result: { outcome: "not_found" } };
      const outcome: AuditOutcome = step.result.outcome;
      await audit.record(tx, {
        at: now,
        actor: request.actor,
        command,
        userId: account?.id ?? null,
        email: request.email,
        outcome,
        details: {
          ...(step.result.outcome === "refused" ? { reason: step.result.reason } : {}),
          ...step.details,
        },
      });
      return step.result;
    });
  }
}

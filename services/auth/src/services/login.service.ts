import { randomUUID } from "node:crypto";
import type { Clock } from "@mimascota/shared/clock";
import type { Transaction } from "@mimascota/shared/db/database";
import type { UnitOfWork } from "@mimascota/shared/db/unit-of-work";
import { enqueueEvent } from "@mimascota/shared/events/outbox";
import type { AuthSettings } from "../config.ts";
import { hashToken, newOpaqueToken } from "../crypto/opaque-token.ts";
import type { PasswordHasher } from "../crypto/password-hasher.ts";
import { problems } from "../errors.ts";
import type { AccountMailer } from "../mail/account-mailer.ts";
import type { AuthMetrics } from "../metrics.ts";
import type { LoginThrottleRepository } from "../repositories/login-throttle.repository.ts";
import { NO_ACCOUNT, type LoginRepository, type LoginUser } from "../repositories/login.repository.ts";
import type { TwoFactorChallengeRepository } from "../repositories/two-factor-challenge.repository.ts";
import { toProfile, type Profile } from "../repositories/user.repository.ts";
import type { AccessTokenService } from "./access-token.service.ts";
import type { DeviceTrustService } from "./device-trust.service.ts";
import { EVENT_SOURCE } from "./account-ports.ts";
import { afterAttempt, afterFailure, type LockoutSettings } from "../domain/lockout-policy.ts";
import type { Client, RefreshGrant, SessionService } from "./session.service.ts";

/** A device cookie for the browser that just signed in (`DeviceTrustService`). */
export interface DeviceCookie {
  value: string;
  maxAgeSeconds: number;
}

export type LoginOutcome =
  | ({
      kind: "session";
      accessToken: string;
      expiresIn: number;
      user: Profile;
      device: DeviceCookie;
    } & RefreshGrant)
  | { kind: "two-factor"; twoFactorToken: string; expiresIn: number };

export interface LoginDeps {
  clock: Clock;
  settings: Pick<AuthSettings, "lockout" | "twoFactor">;
  logins: LoginRepository;
  throttles: LoginThrottleRepository;
  challenges: TwoFactorChallengeRepository;
  hasher: PasswordHasher;
  sessions: SessionService;
  accessTokens: AccessTokenService;
  mailer: AccountMailer;
  metrics: AuthMetrics;
  devices: DeviceTrustService;
  /** Runs the transactions: after commit it wakes the mail and event workers and runs the hooks (revocations). */
  work: UnitOfWork;
}

/** What the transaction decided; turned into a reply (or a problem) once it has committed. */
type Decision =
  | { kind: "refused"; result: "invalid_credentials" | "locked"; lockedNow: boolean }
  | { kind: "unverified"; user: LoginUser }
  | { kind: "two-factor"; user: LoginUser; twoFactorToken: string }
  | { kind: "session"; user: LoginUser; grant: RefreshGrant & { sessionId: string } };

/**
 * Password login. Unknown email, wrong password and locked account give one answer after the same work (one
 * argon2 verification, one throttle transaction), so neither the body nor the time says which it was; only
 * someone who knows the password learns that the address is unverified.
 */
export class LoginService {
  readonly #deps: LoginDeps;
  readonly #lockout: LockoutSettings;

  constructor(deps: LoginDeps) {
    this.#deps = deps;
    this.#lockout = deps.settings.lockout;
  }

  /**
   * `deviceCookie`: the browser's device cookie, if it has one. A valid one for this account puts the login on
   * the trusted-device path, judged by the device's own failures instead of the account lock.
   */
  async login(email: string, password: string, client: Client, deviceCookie?: string): Promise<LoginOutcome> {
    const { logins, hasher } = this.#deps;
    const user = await logins.findUser(email);
    const deviceId = await this.#deps.devices.trusted(deviceCookie, user);
    const passwordOk = user
      ? await hasher.verify(user.passwordHash, password)
      : await hasher.verifyDummy(password);
    if (user && deviceId) return this.#loginFromTrustedDevice(user, passwordOk, password, deviceId, client);
    // The common case needs one statement, not a transaction: only the throttle row (a lock) or the user's
    // row (changed since it was read: a reset, a change, 2FA turned on) can still say no. Every other attempt
    // runs the same statement too, opening nothing, so that the queries of a refusal are always the same:
    // while an email is locked, the right password must not answer later than a wrong one (it would tell a
    // guesser the lock does not hold them back).
    const clean = user && passwordOk && user.emailVerifiedAt && !user.twoFactorEnabledAt;
    const account = clean ? { userId: user.id, passwordHash: user.passwordHash } : NO_ACCOUNT;
    const { session, token, grant } = this.#deps.sessions.prepare({
      userId: account.userId,
      amr: ["pwd"],
      client,
    });
    const opened = await logins.openSessionAfterPasswordCheck(
      { email, passwordHash: account.passwordHash },
      session,
      token,
    );
    if (opened && user) return this.#reply({ kind: "session", user, grant }, password);
    // Refused, locked, or changed meanwhile: decided below under the row locks, where these are told apart.
    const decision = await this.#deps.work.run((tx) =>
      this.#decide(tx, email, passwordOk ? user : undefined, user, client),
    );
    return this.#reply(decision, password);
  }

  /**
   * A browser that has signed in as this user before: the account lock (which anyone can set off with wrong
   * passwords) does not keep it out, and its wrong passwords count on the device, never on the account.
   */
  async #loginFromTrustedDevice(
    user: LoginUser,
    passwordOk: boolean,
    password: string,
    deviceId: string,
    client: Client,
  ): Promise<LoginOutcome> {
    if (!passwordOk) {
      await this.#deps.devices.recordFailure(deviceId);
      return this.#reply({ kind: "refused", result: "invalid_credentials", lockedNow: false }, password);
    }
    const decision = await this.#deps.work.run(async (tx): Promise<Decision> => {
      const now = this.#deps.clock.now();
      // As now, under the row lock (a reset or change committed since the read ends this path).
      const current = await this.#deps.logins.findUserLocked(tx, user.id);
      if (current?.passwordHash !== user.passwordHash) {
        return { kind: "refused", result: "invalid_credentials", lockedNow: false };
      }
      return this.#signIn(tx, current, now, client, deviceId);
    });
    return this.#reply(decision, password);
  }

  async #decide(
    tx: Transaction,
    email: string,
    checked: LoginUser | undefined,
    owner: LoginUser | undefined,
    client: Client,
  ): Promise<Decision> {
    const { throttles, logins } = this.#deps;
    const now = this.#deps.clock.now();
    // The user's row first (the order resets and changes take too), as it is now: the password was checked
    // against the hash read before, which a reset or change committed since has replaced. Read whatever the
    // password was (with no owner: a row that cannot exist), for the same queries either way.
    const current = await logins.findUserLocked(tx, owner?.id ?? NO_ACCOUNT.userId);
    const authenticated = checked && current?.passwordHash === checked.passwordHash ? current : undefined;
    // Taken for every attempt, known email or not: the same queries either way, and failures serialised.
    const state = await throttles.lockState(tx, email, now);
    const attempt = afterAttempt(state, now, authenticated !== undefined, this.#lockout);
    // While locked even the right password is refused, and the lock is not extended.
    if (attempt.kind === "locked-already") return { kind: "refused", result: "locked", lockedNow: false };
    if (attempt.kind !== "passed" || !authenticated) {
      await throttles.save(tx, email, attempt.state);
      const lockedNow = attempt.kind === "locked-now";
      if (lockedNow && owner) await this.#announceLock(tx, owner, now, attempt.lockedUntil);
      return { kind: "refused", result: "invalid_credentials", lockedNow };
    }
    // With 2FA on, the password is half the proof: failures (wrong codes count too) are forgotten only when
    // the second step passes, or a known password would wipe the count that code guessing builds up.
    if (state.failureCount > 0 && !authenticated.twoFactorEnabledAt) {
      await throttles.save(tx, email, attempt.state);
    }
    return this.#signIn(tx, authenticated, now, client);
  }

  /**
   * What a right password on an account that may sign in leads to, inside the decision's transaction: the
   * unverified answer, the second step when 2FA is on (carrying the trusted device, if any), or a session.
   */
  async #signIn(
    tx: Transaction,
    user: LoginUser,
    now: Date,
    client: Client,
    deviceId: string | null = null,
  ): Promise<Decision> {
    if (!user.emailVerifiedAt) return { kind: "unverified", user };
    if (user.twoFactorEnabledAt) {
      const twoFactorToken = await this.#challenge(tx, user.id, now, client, deviceId);
      return { kind: "two-factor", user, twoFactorToken };
    }
    const grant = await this.#deps.sessions.start(tx, { userId: user.id, amr: ["pwd"], client });
    return { kind: "session", user, grant };
  }

  async #reply(decision: Decision, password: string): Promise<LoginOutcome> {
    const { metrics } = this.#deps;
    if (decision.kind !== "refused") await this.#upgradeHash(decision.user, password);
    switch (decision.kind) {
      case "refused":
        metrics.logins.inc(decision.result);
        if (decision.lockedNow) metrics.locks.inc();
        throw problems.error("INVALID_CREDENTIALS");
      case "unverified":
        metrics.logins.inc("email_not_verified");
        throw problems.error("EMAIL_NOT_VERIFIED");
      case "two-factor":
        metrics.logins.inc("two_factor_required");
        return {
          kind: "two-factor",
          twoFactorToken: decision.twoFactorToken,
          expiresIn: this.#deps.settings.twoFactor.challengeTtlSeconds,
        };
      case "session": {
        const { user, grant } = decision;
        const access = await this.#deps.accessTokens.issue({
          userId: user.id,
          sessionId: grant.sessionId,
          amr: ["pwd"],
          email: user.email,
          role: user.role,
        });
        metrics.logins.inc("success");
        // Read with the password hash before the transaction; a session login has a verified address and no 2FA.
        return {
          kind: "session",
          ...access,
          ...grant,
          user: toProfile(user),
          device: this.#deps.devices.issue(user),
        };
      }
    }
  }

  /**
   * A hash made with older argon2 parameters is replaced once the password has been proven right and the
   * account is not locked: after the decision, so a locked account answers in the same time whatever the
   * password, and outside the transaction, so no row lock is held across an argon2 run.
   */
  async #upgradeHash(user: LoginUser, password: string): Promise<void> {
    const { hasher, logins } = this.#deps;
    if (!hasher.needsRehash(user.passwordHash)) return;
    await logins.upgradePasswordHash(user.id, user.passwordHash, await hasher.hash(password));
  }

  /**
   * A wrong second-factor code counts toward the same account lock as a wrong password (the contract: 2FA
   * failures count toward the lock), under the same row lock, so code guessing reaches the lock too.
   */
  async recordSecondFactorFailure(email: string): Promise<void> {
    const lockedNow = await this.#deps.work.run(async (tx) => {
      const now = this.#deps.clock.now();
      const outcome = afterFailure(await this.#deps.throttles.lockState(tx, email, now), now, this.#lockout);
      if (outcome.kind === "locked-already") return false;
      await this.#deps.throttles.save(tx, email, outcome.state);
      if (outcome.kind !== "locked-now") return false;
      const owner = await this.#deps.logins.findUser(email, tx);
      if (owner) await this.#announceLock(tx, owner, now, outcome.lockedUntil);
      return true;
    });
    if (lockedNow) this.#deps.metrics.locks.inc();
  }

  /** The owner learns of the lock by mail (with the way out: a reset) and other services by event. */
  async #announceLock(tx: Transaction, owner: LoginUser, now: Date, lockedUntil: Date): Promise<void> {
    const { mailer } = this.#deps;
    await mailer.queue(tx, owner, "account-locked", {
      name: owner.fullName,
      until: lockedUntil,
      resetLink: mailer.links.forgotPassword(),
    });
    await enqueueEvent(tx, EVENT_SOURCE, {
      topic: "user.locked.v1",
      key: owner.id,
      data: {
        userId: owner.id,
        email: owner.email,
        reason: "too_many_failed_logins",
        lockedAt: now.toISOString(),
        lockedUntil: lockedUntil.toISOString(),
      },
      occurredAt: now,
    });
  }

  async #challenge(
    tx: Transaction,
    userId: string,
    now: Date,
    client: Client,
    deviceId: string | null = null,
  ): Promise<string> {
    const token = newOpaqueToken();
    await this.#deps.challenges.create(tx, {
      id: randomUUID(),
      userId,
      tokenHash: hashToken(token),
      createdAt: now,
      expiresAt: new Date(now.getTime() + this.#deps.settings.twoFactor.challengeTtlMs),
      userAgent: client.userAgent,
      ip: client.ip,
      deviceId,
    });
    return token;
  }
}

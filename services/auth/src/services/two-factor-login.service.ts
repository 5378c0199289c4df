import { TransactionRollbackError } from "drizzle-orm";
import type { Clock } from "@mimascota/shared/clock";
import type { Database } from "@mimascota/shared/db/database";
import { hashToken } from "../crypto/opaque-token.ts";
import { problems } from "../errors.ts";
import type { AuthMetrics } from "../metrics.ts";
import type { LoginThrottleRepository } from "../repositories/login-throttle.repository.ts";
import type { TwoFactorChallengeRepository } from "../repositories/two-factor-challenge.repository.ts";
import type { TwoFactorRepository } from "../repositories/two-factor.repository.ts";
import type { UserRepository } from "../repositories/user.repository.ts";
import { TWO_FACTOR_LIMITS } from "../two-factor/two-factor-attempts.ts";
import type { AccessTokenService } from "./access-token.service.ts";
import type { DeviceTrustService } from "./device-trust.service.ts";
import { isLocked } from "../domain/lockout-policy.ts";
import type { LoginOutcome } from "./login.service.ts";
import type { Client, SessionService } from "./session.service.ts";
import type { TwoFactorCheckService } from "./two-factor-check.service.ts";

export interface TwoFactorLoginDeps {
  db: Database;
  clock: Clock;
  users: UserRepository;
  credentials: TwoFactorRepository;
  challenges: TwoFactorChallengeRepository;
  throttles: LoginThrottleRepository;
  checker: TwoFactorCheckService;
  sessions: SessionService;
  accessTokens: AccessTokenService;
  metrics: AuthMetrics;
  devices: DeviceTrustService;
}

/** Both factors proved: what the access token and the session record as the authentication methods. */
const AMR = ["pwd", "otp"];

const invalidToken = () => problems.error("INVALID_2FA_TOKEN");
const invalidCode = () => problems.error("INVALID_2FA_CODE");

/** `POST /login/2fa`: the second step of a password login on an account with 2FA on. */
export class TwoFactorLoginService {
  readonly #deps: TwoFactorLoginDeps;

  constructor(deps: TwoFactorLoginDeps) {
    this.#deps = deps;
  }

  async complete(
    twoFactorToken: string,
    code: string,
    client: Client,
  ): Promise<Extract<LoginOutcome, { kind: "session" }>> {
    const { db, clock, users, credentials, challenges } = this.#deps;
    // Unknown, expired, consumed and exhausted tokens answer alike; the attempt is counted before the check.
    const challenge = await challenges.reserveAttempt(
      db,
      hashToken(twoFactorToken),
      clock.now(),
      TWO_FACTOR_LIMITS.perToken,
    );
    if (!challenge) throw invalidToken();
    const user = await users.findRecipientById(challenge.userId);
    const credential = user ? await credentials.find(user.id) : undefined;
    // 2FA turned off since the password step, the password changed (a reset ends everything begun with the
    // old one) or the account locked meanwhile: start again from the password.
    if (!user || !credential?.confirmedAt) throw invalidToken();
    const passwordChangedAt = await credentials.passwordChangedAt(user.id);
    if (passwordChangedAt && passwordChangedAt > challenge.createdAt) throw invalidToken();
    // A password step from a trusted device (a device cookie) is not held back by the account lock.
    if (!challenge.deviceId && isLocked(await this.#deps.throttles.find(user.email), clock.now())) {
      throw invalidToken();
    }
    const pending = await this.#deps.checker.begin(user, credential, code, {
      acceptBackupCode: true,
      invalid: invalidCode,
    });
    const attempt = await db
      .transaction(async (tx) => {
        // The token first, so it is single use: of requests racing with one token, the later ones wait on
        // its row and find it used before their code is spent (a double submit is not a wrong code, and a
        // backup code is not spent on a sign-in that another request wins).
        if (!(await challenges.consume(tx, challenge.id, clock.now()))) return { used: true } as const;
        const method = await pending.spend(tx);
        // Matched nothing, or spent meanwhile: the token stays usable for its remaining attempts.
        if (!method) tx.rollback();
        await this.#deps.throttles.resetFailures(tx, user.email);
        return { method, grant: await this.#deps.sessions.start(tx, { userId: user.id, amr: AMR, client }) };
      })
      .catch((error: unknown) => {
        if (error instanceof TransactionRollbackError) return { method: undefined, grant: undefined };
        throw error;
      });
    if ("used" in attempt) {
      // Another request signed in with this token first: not a wrong code, and no attempt spent.
      await pending.cancel();
      throw invalidToken();
    }
    await pending.settle(attempt.method);
    const { grant } = attempt;
    if (!grant) throw invalidToken();
    const access = await this.#deps.accessTokens.issue({
      userId: user.id,
      sessionId: grant.sessionId,
      amr: AMR,
      email: user.email,
      role: user.role,
    });
    const profile = await users.getProfile(user.id);
    if (!profile) throw invalidToken();
    this.#deps.metrics.logins.inc("success");
    const device = this.#deps.devices.issue({ id: user.id, passwordChangedAt });
    return { kind: "session", ...access, ...grant, user: profile, device };
  }
}

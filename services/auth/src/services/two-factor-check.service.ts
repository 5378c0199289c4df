import type { Clock } from "@mimascota/shared/clock";
import type { Executor } from "@mimascota/shared/db/database";
import type { AppError } from "@mimascota/shared/errors";
import { problems } from "../errors.ts";
import type { AuthMetrics } from "../metrics.ts";
import type { BackupCodeRepository } from "../repositories/backup-code.repository.ts";
import type { TwoFactorCredential, TwoFactorRepository } from "../repositories/two-factor.repository.ts";
import { matchBackupCode } from "../two-factor/backup-codes.ts";
import type { SecretBox } from "../two-factor/secret-box.ts";
import { verifyTotp } from "../two-factor/totp.ts";
import type { TwoFactorAttemptLimiter } from "../two-factor/two-factor-attempts.ts";

/** Values of `auth_two_factor_checks_total{result}`: bounded. */

export interface TwoFactorCheckDeps {
  clock: Clock;
  credentials: TwoFactorRepository;
  backupCodes: BackupCodeRepository;
  sealer: SecretBox;
  limiter: TwoFactorAttemptLimiter;
  metrics: AuthMetrics;
  /** Counts a wrong code toward the account lock (the login throttle), by canonical email. */
  onFailure: (email: string) => Promise<void>;
}

export interface CheckOptions {
  /** Backup codes are accepted wherever a TOTP code is, except while confirming the setup (none exist yet). */
  acceptBackupCode: boolean;
  /** The endpoint's INVALID_2FA_CODE: 401 on the login step, 400 on the management endpoints. */
  invalid: () => AppError;
}

/** The AAD that binds a sealed TOTP secret to its user's row. */
export const totpSecretAad = (userId: string) => `totp:${userId}`;

/** How a code passed: a TOTP code, or one of the account's backup codes. */
export type CodeMethod = "totp" | "backup_code";

/**
 * A code checked against the account, nothing spent yet (`TwoFactorCheckService.begin`): `spend` spends it
 * (the TOTP step, the backup code), in the caller's transaction if given, and `settle` records the outcome.
 */
export interface PendingCheck {
  /** How the code passes, if it does; undefined when it matched nothing or was spent meanwhile (a replay). */
  spend(tx?: Executor): Promise<CodeMethod | undefined>;
  /** The limiter, the metric and the lockout count; resolves with `method` or throws the endpoint's error. */
  settle(method: CodeMethod | undefined): Promise<CodeMethod>;
  /** The code was not put to the test after all (what it was for is gone): its reservation is handed back. */
  cancel(): Promise<void>;
}

/**
 * The one place a second-factor code is checked, for the login step and the management endpoints alike, so
 * the per-account limit, the replay rule and the lockout count apply the same everywhere.
 */
export class TwoFactorCheckService {
  readonly #deps: TwoFactorCheckDeps;

  constructor(deps: TwoFactorCheckDeps) {
    this.#deps = deps;
  }

  /** Resolves with how the code matched, or throws 429 TOO_MANY_ATTEMPTS or the endpoint's INVALID_2FA_CODE. */
  async check(
    user: { id: string; email: string },
    credential: TwoFactorCredential,
    code: string,
    options: CheckOptions,
  ): Promise<CodeMethod> {
    const pending = await this.begin(user, credential, code, options);
    return pending.settle(await pending.spend());
  }

  /**
   * `check` in two halves, for a caller that spends the code in a transaction of its own (the login step,
   * which first takes its sign-in token there). Counted against the per-account limit at once (throws 429
   * while blocked); the code is matched here, where no row is locked (a backup code costs up to ten argon2
   * hashes), and spent only by `spend`.
   */
  async begin(
    user: { id: string; email: string },
    credential: TwoFactorCredential,
    code: string,
    options: CheckOptions,
  ): Promise<PendingCheck> {
    const { limiter, metrics } = this.#deps;
    // Counted before checking, so parallel guesses cannot get past the limit; while blocked nothing is checked.
    const gate = await limiter.begin(user.id);
    if (!gate.allowed) {
      metrics.twoFactorChecks.inc("blocked");
      throw problems.error("TOO_MANY_ATTEMPTS", {
        headers: { "retry-after": String(gate.retryAfterSeconds) },
      });
    }
    const match = await this.#match(user.id, credential, code, options.acceptBackupCode);
    return {
      spend: async (tx) => (match && (await match.spend(tx)) ? match.method : undefined),
      cancel: () => gate.succeeded(),
      settle: async (method) => {
        if (method) {
          await gate.succeeded();
          metrics.twoFactorChecks.inc(method);
          return method;
        }
        metrics.twoFactorChecks.inc("invalid");
        await this.#deps.onFailure(user.email);
        throw options.invalid();
      },
    };
  }

  /** What would spend the code, if it matches: a conditional update that decides between racing requests. */
  async #match(
    userId: string,
    credential: TwoFactorCredential,
    code: string,
    acceptBackupCode: boolean,
  ): Promise<{ method: CodeMethod; spend: (tx?: Executor) => Promise<boolean> } | undefined> {
    const { credentials, backupCodes } = this.#deps;
    const now = this.#deps.clock.now();
    if (/^[0-9]{6}$/.test(code)) {
      const secret = this.#deps.sealer.open(credential.secretSealed, totpSecretAad(userId));
      const result = await verifyTotp(secret, code, { now, lastUsedStep: credential.lastUsedStep });
      if (!result.ok) return undefined;
      // The loser of requests racing with one code is a replay.
      return { method: "totp", spend: (tx) => credentials.useStep(userId, result.step, tx) };
    }
    if (!acceptBackupCode) return undefined;
    const unused = await backupCodes.listUnused(userId);
    const index = await matchBackupCode(
      code,
      unused.map((c) => c.codeHash),
    );
    const match = unused[index];
    if (!match) return undefined;
    return { method: "backup_code", spend: (tx) => backupCodes.markUsed(match.id, now, tx) };
  }
}

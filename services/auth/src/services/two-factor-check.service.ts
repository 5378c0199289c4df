import type { Clock } from "@mimascota/shared/clock";
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
export type TwoFactorCheckResult = "totp" | "backup_code" | "invalid" | "blocked";

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

/**
 * The one place a second-factor code is checked, for the login step and the management endpoints alike, so
 * the per-account limit, the replay rule and the lockout count apply the same everywhere.
 */
export class TwoFactorCheckService {
  readonly #d: TwoFactorCheckDeps;

  constructor(deps: TwoFactorCheckDeps) {
    this.#d = deps;
  }

  /** Resolves with how the code matched, or throws 429 TOO_MANY_ATTEMPTS or the endpoint's INVALID_2FA_CODE. */
  async check(
    user: { id: string; email: string },
    credential: TwoFactorCredential,
    code: string,
    options: CheckOptions,
  ): Promise<"totp" | "backup_code"> {
    const { limiter, metrics } = this.#d;
    // Counted before checking, so parallel guesses cannot get past the limit; while blocked nothing is checked.
    const gate = await limiter.begin(user.id);
    if (!gate.allowed) {
      metrics.twoFactorChecks.inc({ result: "blocked" });
      throw problems.error("TOO_MANY_ATTEMPTS", "Too many wrong codes. Try again later.", {
        headers: { "retry-after": String(gate.retryAfterSeconds) },
      });
    }
    const matched = await this.#match(user.id, credential, code, options.acceptBackupCode);
    if (matched) {
      await gate.succeeded();
      metrics.twoFactorChecks.inc({ result: matched });
      return matched;
    }
    metrics.twoFactorChecks.inc({ result: "invalid" });
    await this.#d.onFailure(user.email);
    throw options.invalid();
  }

  async #match(
    userId: string,
    credential: TwoFactorCredential,
    code: string,
    acceptBackupCode: boolean,
  ): Promise<"totp" | "backup_code" | undefined> {
    const now = this.#d.clock.now();
    if (/^[0-9]{6}$/.test(code)) {
      const secret = this.#d.sealer.open(credential.secretSealed, totpSecretAad(userId));
      const result = await verifyTotp(secret, code, { now, lastUsedStep: credential.lastUsedStep });
      // The conditional update decides between requests racing with one code: the loser is a replay.
      if (result.ok && (await this.#d.credentials.useStep(userId, result.step))) return "totp";
      return undefined;
    }
    if (!acceptBackupCode) return undefined;
    const unused = await this.#d.backupCodes.listUnused(userId);
    const index = await matchBackupCode(
      code,
      unused.map((c) => c.codeHash),
    );
    const match = unused[index];
    if (match && (await this.#d.backupCodes.markUsed(match.id, now))) return "backup_code";
    return undefined;
  }
}

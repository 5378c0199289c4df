import type { Logger } from "pino";
import type { Clock } from "@mimascota/shared/clock";
import type { Database } from "@mimascota/shared/db/database";
import { UnitOfWork } from "@mimascota/shared/db/unit-of-work";
import type { KeyValueStore } from "@mimascota/shared/kv/key-value-store";
import type { AuthConfig } from "../config.ts";
import { secretBoxFromConfig } from "../crypto/secret-box-from-config.ts";
import { AccountMailer } from "../mail/account-mailer.ts";
import { AuthMetrics } from "../metrics.ts";
import { AdminAuditRepository } from "../repositories/admin-audit.repository.ts";
import { BackupCodeRepository } from "../repositories/backup-code.repository.ts";
import { LoginThrottleRepository } from "../repositories/login-throttle.repository.ts";
import { OneTimeTokenRepository } from "../repositories/one-time-token.repository.ts";
import { RefreshTokenRepository } from "../repositories/refresh-token.repository.ts";
import { SessionRepository } from "../repositories/session.repository.ts";
import { SigningKeyRepository } from "../repositories/signing-key.repository.ts";
import { SupportRepository } from "../repositories/support.repository.ts";
import { TwoFactorRepository } from "../repositories/two-factor.repository.ts";
import { UserRepository } from "../repositories/user.repository.ts";
import { AccessTokenService } from "../services/access-token.service.ts";
import { EmailVerificationService } from "../services/email-verification.service.ts";
import { SessionService } from "../services/session.service.ts";
import { SigningKeyService } from "../services/signing-key.service.ts";
import { SupportService } from "../services/support.service.ts";

export interface AdminDeps {
  config: AuthConfig;
  db: Database;
  kv: KeyValueStore;
  clock: Clock;
  logger: Logger;
}

/**
 * The admin CLI's composition root: the service's own repositories and services, built as `buildApp` builds
 * them, so a support action follows the same rules (and writes the same mail, events and revocations) as the
 * flow it stands in for. No worker runs here: the mail and the events wait in their queues for the service's
 * mail worker and outbox relay, which poll them.
 */
export async function composeSupport(deps: AdminDeps): Promise<SupportService> {
  const { config, db, kv, clock, logger } = deps;
  const work = new UnitOfWork({ db });
  const users = new UserRepository({ db });
  const mailer = new AccountMailer(config.links);
  const signingKeys = new SigningKeyService({
    db,
    clock,
    settings: config,
    keys: new SigningKeyRepository({ db }),
    sealer: await secretBoxFromConfig(config),
  });
  const sessions = new SessionService({
    db,
    clock,
    logger,
    settings: config,
    sessions: new SessionRepository({ db }),
    refreshTokens: new RefreshTokenRepository({ db }),
    accessTokens: new AccessTokenService({ clock, settings: config, keys: signingKeys }),
    kv,
    metrics: new AuthMetrics({ defaultMetrics: false }),
    work,
  });
  return new SupportService({
    work,
    clock,
    support: new SupportRepository(),
    audit: new AdminAuditRepository(),
    throttles: new LoginThrottleRepository({ db }),
    verification: new EmailVerificationService({
      work,
      clock,
      settings: config,
      users,
      tokens: new OneTimeTokenRepository({ db }),
      mailer,
    }),
    sessions,
    twoFactor: {
      credentials: new TwoFactorRepository({ db }),
      backupCodes: new BackupCodeRepository({ db }),
      sessions,
      mailer,
    },
  });
}

import { loadConfigOrExit } from "@mimascota/shared/config";
import { openDatabase } from "@mimascota/shared/db/database";
import { createLogger } from "@mimascota/shared/logger";
import { loadAuthConfig } from "./config.ts";
import { secretBoxFromConfig } from "./crypto/secret-box-from-config.ts";
import { migrateAuth } from "./db/migrations.ts";
import { SigningKeyRepository } from "./repositories/signing-key.repository.ts";
import { TwoFactorRepository } from "./repositories/two-factor.repository.ts";
import { SecretResealService } from "./services/secret-reseal.service.ts";

/**
 * `npm run keys:reseal -w services/auth`, after moving the old ENCRYPTION_KEY to ENCRYPTION_KEYS_PREVIOUS and
 * setting a new one (same environment as the service): seals every TOTP secret and signing key again under the
 * new key, while the service keeps running. Exits 1 if a value opens with no configured key. Embedded mode
 * (PGlite) allows one process per data folder: stop the service first.
 */
const [config] = loadConfigOrExit(() => loadAuthConfig());
const logger = createLogger("auth-keys", config.LOG_LEVEL);
const database = await openDatabase({ url: config.DATABASE_URL, dataDir: config.DATA_DIR });
try {
  if (database.kind === "pglite") await migrateAuth(database);
  const { db } = database;
  const report = await new SecretResealService({
    sealer: await secretBoxFromConfig(config),
    twoFactor: new TwoFactorRepository({ db }),
    signingKeys: new SigningKeyRepository({ db }),
  }).run();
  const unreadable = report.totpSecrets.unreadable.length + report.signingKeys.unreadable.length;
  if (unreadable > 0) {
    logger.error(report, "some sealed values open with no configured key: keep the key that sealed them");
    process.exitCode = 1;
  } else {
    logger.info(report, "sealed values are under the current ENCRYPTION_KEY");
  }
} finally {
  await database.close();
}

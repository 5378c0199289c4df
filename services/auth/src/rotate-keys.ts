import { systemClock } from "@mimascota/shared/clock";
import { openDatabase } from "@mimascota/shared/db/database";
import { createLogger } from "@mimascota/shared/logger";
import { loadAuthConfig } from "./config.ts";
import { secretBoxFromConfig } from "./crypto/secret-box-from-config.ts";
import { migrateAuth } from "./db/migrations.ts";
import { SigningKeyRepository } from "./repositories/signing-key.repository.ts";
import { SigningKeyService } from "./services/signing-key.service.ts";

/**
 * `npm run keys:rotate -w services/auth`: a new Ed25519 key signs from now on; the previous one is retired and
 * stays in the JWKS until every token it signed has expired. Running services pick the new key up within
 * 30 s. Embedded mode (PGlite) allows one process per data folder: stop the service first.
 */
const config = loadAuthConfig();
const logger = createLogger("auth-keys", config.LOG_LEVEL);
const database = await openDatabase({ url: config.DATABASE_URL, dataDir: config.DATA_DIR });
try {
  if (database.kind === "pglite") await migrateAuth(database);
  const keys = new SigningKeyService({
    db: database.db,
    clock: systemClock,
    config,
    keys: new SigningKeyRepository({ db: database.db }),
    sealer: await secretBoxFromConfig(config),
  });
  const { kid, retired } = await keys.rotate();
  logger.info({ kid, retired }, "signing key rotated");
} finally {
  await database.close();
}

import { loadConfigOrExit } from "@mimascota/shared/config";
import { systemClock } from "@mimascota/shared/clock";
import { openDatabase } from "@mimascota/shared/db/database";
import { createLogger } from "@mimascota/shared/logger";
import { loadAuthConfig } from "./config.ts";
import { secretBoxFromConfig } from "./crypto/secret-box-from-config.ts";
import { migrateAuth } from "./db/migrations.ts";
import { SigningKeyRepository } from "./repositories/signing-key.repository.ts";
import { SigningKeyService } from "./services/signing-key.service.ts";

/**
 * `npm run keys:rotate -w services/auth [-- --now]`: a new Ed25519 key is published in the JWKS at once and
 * signs after SIGNING_KEY_ACTIVATION_DELAY (900 s), or at once with `--now` (a key that may have leaked);
 * the previous one is retired then and stays in the JWKS until every token it signed has expired. Running
 * services switch within 30 s of the activation. Embedded mode (PGlite) allows one process per data folder:
 * stop the service first.
 */
const [config] = loadConfigOrExit(() => loadAuthConfig());
const logger = createLogger("auth-keys", config.LOG_LEVEL);
const database = await openDatabase({ url: config.DATABASE_URL, dataDir: config.DATA_DIR });
try {
  if (database.kind === "pglite") await migrateAuth(database);
  const keys = new SigningKeyService({
    db: database.db,
    clock: systemClock,
    settings: config,
    keys: new SigningKeyRepository({ db: database.db }),
    sealer: await secretBoxFromConfig(config),
  });
  const now = process.argv.slice(2).includes("--now");
  const { kid, activatesAt, retired, dropped } = await keys.rotate(now ? 0 : undefined);
  logger.info(
    { kid, activatesAt: activatesAt.toISOString(), retired, dropped },
    now ? "signing key rotated: signing now" : "signing key published: signing from activatesAt",
  );
} finally {
  await database.close();
}

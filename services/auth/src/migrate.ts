import { loadConfigOrExit, loadMigrationConfig } from "@mimascota/shared/config";
import { openDatabase } from "@mimascota/shared/db/database";
import { migrateInfra } from "@mimascota/shared/db/infra-migrations";
import { createLogger } from "@mimascota/shared/logger";
import { migrateAuth } from "./db/migrations.ts";

/** `npm run migrate`: applies every pending migration to the configured database, then exits. */
const [config] = loadConfigOrExit(() => loadMigrationConfig());
const logger = createLogger("auth-migrate", config.LOG_LEVEL);
const database = await openDatabase({ url: config.DATABASE_URL, dataDir: config.DATA_DIR });
try {
  await migrateInfra(database);
  await migrateAuth(database);
  logger.info({ database: database.kind }, "migrations applied");
} finally {
  await database.close();
}

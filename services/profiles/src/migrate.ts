import { loadConfigOrExit, loadMigrationConfig } from "@mimascota/shared/config";
import { openDatabase } from "@mimascota/shared/db/database";
import { createLogger } from "@mimascota/shared/logger";
import { profilesDataDir } from "./config.ts";
import { migrateProfiles } from "./db/migrations.ts";

/** `npm run migrate -w services/profiles`: applies every pending migration to the configured database, then exits. */
const [config] = loadConfigOrExit(() => loadMigrationConfig());
const logger = createLogger("profiles-migrate", config.LOG_LEVEL);
const database = await openDatabase({ url: config.DATABASE_URL, dataDir: profilesDataDir(config) });
try {
  await migrateProfiles(database);
  logger.info({ database: database.kind }, "migrations applied");
} finally {
  await database.close();
}

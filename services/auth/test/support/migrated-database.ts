import { openDatabase } from "@mimascota/shared/db/database";
import { migrateInfra } from "@mimascota/shared/db/infra-migrations";
import { createTestDatabase } from "@mimascota/shared/testing/services";
import { migrateAuth } from "../../src/db/migrations.ts";

/**
 * A fresh database on the PostgreSQL server with the auth schema applied, as `npm run migrate` leaves it, for
 * tests that start the real auth service against it (which migrates only its embedded database itself).
 */
export async function migratedAuthDatabase(
  dataDir: string,
): Promise<{ url: string; drop: () => Promise<void> }> {
  const db = await createTestDatabase();
  const handle = await openDatabase({ url: db.url, dataDir });
  await migrateInfra(handle);
  await migrateAuth(handle);
  await handle.close();
  return db;
}

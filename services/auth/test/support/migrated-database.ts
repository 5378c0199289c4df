import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openDatabase, type Database } from "@mimascota/shared/db/database";
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

/**
 * An open, migrated auth database without the service around it, for tests of repository SQL that must hold on
 * both: a new database on the PostgreSQL server, or embedded PGlite in a temp folder. `close` removes it.
 */
export async function openAuthDatabase(
  kind: "postgres" | "pglite",
): Promise<{ db: Database; close: () => Promise<void> }> {
  const dataDir = mkdtempSync(join(tmpdir(), "mm-auth-db-"));
  const server = kind === "postgres" ? await createTestDatabase() : undefined;
  const handle = await openDatabase({ url: server?.url, dataDir });
  await migrateInfra(handle);
  await migrateAuth(handle);
  return {
    db: handle.db,
    close: async () => {
      await handle.close();
      await server?.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, beforeEach } from "node:test";
import type { PgTable } from "drizzle-orm/pg-core";
import { openDatabase, type Database, type DatabaseHandle } from "../../src/db/database.ts";
import { migrateInfra } from "../../src/db/infra-migrations.ts";
import { createTestDatabase, skipUnless } from "../../src/testing/services.ts";

/** The relay and mail worker suites run on both: the PostgreSQL server and embedded PGlite. */
export const INFRA_DATABASES = ["postgres", "pglite"] as const;
export type InfraDatabase = (typeof INFRA_DATABASES)[number];

/** For `describe(title, { skip: await skipUnlessDatabase(kind) }, ...)`: PGlite always runs. */
export const skipUnlessDatabase = async (kind: InfraDatabase) =>
  kind === "postgres" && (await skipUnless("postgres"));

/**
 * For the relay and mail worker suites: a fresh database with the infra tables (a new database on the
 * PostgreSQL server, or embedded PGlite in a temp folder), opened before the suite's tests, `table` emptied
 * before each one, closed and removed after. Call inside the suite's `describe`.
 */
export function infraDatabase(kind: InfraDatabase, name: string, table: PgTable): { readonly db: Database } {
  let dataDir = "";
  let handle: DatabaseHandle | undefined;
  let drop: (() => Promise<void>) | undefined;
  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), `${name}-`));
    const server = kind === "postgres" ? await createTestDatabase() : undefined;
    drop = server?.drop;
    handle = await openDatabase({ url: server?.url, dataDir });
    await migrateInfra(handle);
  });
  after(async () => {
    await handle?.close();
    await drop?.();
    rmSync(dataDir, { recursive: true, force: true });
  });
  beforeEach(async () => {
    await handle!.db.delete(table);
  });
  return {
    get db() {
      if (!handle) throw new Error("the suite's database is not open yet");
      return handle.db;
    },
  };
}

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, beforeEach } from "node:test";
import type { PgTable } from "drizzle-orm/pg-core";
import { openDatabase, type Database, type DatabaseHandle } from "../../src/db/database.ts";
import { migrateInfra } from "../../src/db/infra-migrations.ts";

/**
 * For the relay and mail worker unit tests: an embedded PGlite database with the infra tables, opened before
 * the file's tests, `table` emptied before each one, closed and removed after. Call at the top of the file.
 */
export function embeddedInfraDatabase(name: string, table: PgTable): { readonly db: Database } {
  let dataDir = "";
  let handle: DatabaseHandle | undefined;
  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), `${name}-`));
    handle = await openDatabase({ dataDir });
    await migrateInfra(handle);
  });
  after(async () => {
    await handle?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });
  beforeEach(async () => {
    await handle!.db.delete(table);
  });
  return {
    get db() {
      if (!handle) throw new Error("the embedded database is not open yet");
      return handle.db;
    },
  };
}

import assert from "node:assert/strict";
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { sql } from "drizzle-orm";
import { openDatabase } from "../../src/db/database.ts";
import { createTestDatabase, skipUnless } from "../../src/testing/services.ts";

/** Replicas starting together (an init container per pod) each run the migrations: one at a time, once. */
describe("migrations run concurrently on PostgreSQL", { skip: await skipUnless("postgres") }, () => {
  const dir = mkdtempSync(join(tmpdir(), "mm-migrations-"));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("five migrators at once apply each migration exactly once", async () => {
    const folder = join(dir, "drizzle");
    mkdirSync(join(folder, "meta"), { recursive: true });
    // A migration that fails if it runs twice (no IF NOT EXISTS), slow enough for the migrators to overlap.
    writeFileSync(
      join(folder, "0000_first.sql"),
      "CREATE TABLE once_only (id int primary key);\n--> statement-breakpoint\nSELECT pg_sleep(0.3);\n--> statement-breakpoint\nINSERT INTO once_only VALUES (1);",
    );
    writeFileSync(
      join(folder, "meta", "_journal.json"),
      JSON.stringify({
        version: "7",
        dialect: "postgresql",
        entries: [{ idx: 0, version: "7", when: 1, tag: "0000_first", breakpoints: true }],
      }),
    );
    const database = await createTestDatabase();
    const handles = await Promise.all(
      Array.from({ length: 5 }, () => openDatabase({ url: database.url, dataDir: dir })),
    );
    try {
      await Promise.all(handles.map((handle) => handle.migrate(folder, "__migrations_test")));
      const rows = await handles[0]!.db.execute(sql`select count(*)::int as n from once_only`);
      assert.equal((rows as { rows: { n: number }[] }).rows[0]!.n, 1);
    } finally {
      await Promise.all(handles.map((handle) => handle.close()));
      await database.drop();
    }
  });
});

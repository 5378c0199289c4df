import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { eq, sql } from "drizzle-orm";
import { openDatabase, type DatabaseHandle } from "../../src/db/database.ts";
import { migrateInfra } from "../../src/db/infra-migrations.ts";
import { mailQueue } from "../../src/db/infra-schema.ts";
import { enqueueMail } from "../../src/mail/mail-queue.ts";
import { createTestDatabase, skipUnless } from "../../src/testing/services.ts";

const journal = JSON.parse(
  readFileSync(new URL("../../drizzle/meta/_journal.json", import.meta.url), "utf8"),
) as { entries: unknown[] };

const mail = (subject: string) => ({
  template: "test",
  to: "t@example.com",
  subject,
  text: "t",
  html: "<p>t</p>",
});

async function rows(
  handle: DatabaseHandle,
  query: ReturnType<typeof sql>,
): Promise<Record<string, unknown>[]> {
  const result: unknown = await handle.db.execute(query);
  return (result as { rows: Record<string, unknown>[] }).rows;
}

async function subjects(handle: DatabaseHandle): Promise<string[]> {
  const found = await handle.db.select({ subject: mailQueue.subject }).from(mailQueue);
  return found.map((r) => r.subject).toSorted();
}

/**
 * The same behaviour is required of both drivers: embedded PGlite and a real PostgreSQL 15. `open` opens the
 * same database each time it is called.
 */
function databaseSuite(open: () => Promise<DatabaseHandle>, cleanup: () => Promise<void>): void {
  let handle: DatabaseHandle;
  before(async () => {
    handle = await open();
  });
  after(async () => {
    await handle.close();
    await cleanup();
  });

  it("applies the infrastructure migrations, and applying them again changes nothing", async () => {
    await migrateInfra(handle);
    await migrateInfra(handle);
    const tables = await rows(
      handle,
      sql`select table_name from information_schema.tables
          where table_schema = 'public' and table_name in ('mail_queue', 'outbox_events') order by table_name`,
    );
    assert.deepEqual(
      tables.map((t) => t.table_name),
      ["mail_queue", "outbox_events"],
    );
    const applied = await rows(handle, sql`select count(*)::int as n from drizzle.__migrations_infra`);
    assert.equal(Number(applied[0]?.n), journal.entries.length, "each migration recorded once");
    await handle.ping();
  });

  it("rolls back every write of a transaction that throws", async () => {
    await assert.rejects(
      handle.db.transaction(async (tx) => {
        await enqueueMail(tx, mail("rolled-back-1"));
        await enqueueMail(tx, mail("rolled-back-2"));
        throw new Error("business rule failed");
      }),
      /business rule failed/,
    );
    assert.deepEqual(
      (await subjects(handle)).filter((s) => s.startsWith("rolled-back")),
      [],
    );
  });

  it("persists a committed transaction", async () => {
    const id = await handle.db.transaction((tx) => enqueueMail(tx, mail("committed")));
    const [row] = await handle.db.select().from(mailQueue).where(eq(mailQueue.id, id));
    assert.equal(row?.subject, "committed");
    assert.equal(row?.status, "pending");
  });

  it("keeps a concurrent transaction's commit when another one rolls back", async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const failing = handle.db.transaction(async (tx) => {
      await enqueueMail(tx, mail("concurrent-rolled-back"));
      await held;
      throw new Error("abort");
    });
    const committing = handle.db.transaction(async (tx) => {
      await enqueueMail(tx, mail("concurrent-committed"));
    });
    // PGlite runs one transaction at a time, so only release the first once the second has had its chance.
    setTimeout(release, 50);
    const [failed, committed] = await Promise.allSettled([failing, committing]);
    assert.equal(failed.status, "rejected");
    assert.equal(committed.status, "fulfilled");
    const concurrent = (await subjects(handle)).filter((s) => s.startsWith("concurrent"));
    assert.deepEqual(concurrent, ["concurrent-committed"]);
  });

  it("keeps committed data and the migration state when the database is closed and opened again", async () => {
    await handle.close();
    handle = await open();
    await migrateInfra(handle);
    assert.ok((await subjects(handle)).includes("committed"));
    const applied = await rows(handle, sql`select count(*)::int as n from drizzle.__migrations_infra`);
    assert.equal(Number(applied[0]?.n), journal.entries.length);
  });
}

describe("database on embedded PGlite", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "database-test-"));
  databaseSuite(
    () => openDatabase({ dataDir }),
    async () => rmSync(dataDir, { recursive: true, force: true }),
  );
});

describe("database on PostgreSQL", { skip: await skipUnless("postgres") }, () => {
  let test: { url: string; drop: () => Promise<void> } | undefined;
  databaseSuite(
    async () => {
      test ??= await createTestDatabase();
      const handle = await openDatabase({ url: test.url, dataDir: "unused" });
      const [version] = await rows(handle, sql`select current_setting('server_version_num')::int as v`);
      assert.ok(Number(version?.v) >= 150000, `PostgreSQL 15 or later (${String(version?.v)})`);
      return handle;
    },
    async () => test?.drop(),
  );
});

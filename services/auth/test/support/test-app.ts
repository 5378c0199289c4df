import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { FastifyInstance } from "fastify";
import { desc } from "drizzle-orm";
import { ManualClock } from "@mimascota/shared/clock";
import type { Wake } from "@mimascota/shared/db/unit-of-work";
import { openDatabase, type DatabaseHandle } from "@mimascota/shared/db/database";
import { migrateInfra } from "@mimascota/shared/db/infra-migrations";
import { mailQueue, outboxEvents } from "@mimascota/shared/db/infra-schema";
import type { KeyValueStore } from "@mimascota/shared/kv/key-value-store";
import { MemoryKeyValueStore } from "@mimascota/shared/kv/memory-key-value-store";
import { createLogger, type Logger } from "@mimascota/shared/logger";
import { after, before, describe } from "node:test";
import { createTestDatabase, skipUnless } from "@mimascota/shared/testing/services";
import { buildApp } from "../../src/app.ts";
import type { PasswordHasher } from "../../src/crypto/password-hasher.ts";
import { loadAuthConfig, type AuthConfig } from "../../src/config.ts";
import { migrateAuth } from "../../src/db/migrations.ts";

export interface AuthTestContext {
  app: FastifyInstance;
  config: AuthConfig;
  clock: ManualClock;
  database: DatabaseHandle;
  kv: KeyValueStore;
  /** Queued mails, newest first (the worker is not running: tests read the queue). */
  mails(): Promise<(typeof mailQueue.$inferSelect)[]>;
  /** Outbox rows, newest first. */
  events(): Promise<(typeof outboxEvents.$inferSelect)[]>;
  close(): Promise<void>;
}

/**
 * The auth app over a fresh database: real PostgreSQL (`"postgres"`, a new database per context) or
 * embedded PGlite in a temp folder. Time is a ManualClock; the key-value store is in memory unless given.
 */
export async function createAuthTestContext(
  options: {
    database?: "postgres" | "pglite";
    env?: Record<string, string>;
    hasher?: (config: AuthConfig) => PasswordHasher;
    /** The key-value store (closed with the context); in memory, on the test clock, by default. */
    kv?: KeyValueStore;
    /** The service's logger; silent by default. */
    logger?: Logger;
    /** What wakes the mail worker and outbox relay (none run in tests; a spy may watch). */
    wake?: Wake;
  } = {},
): Promise<AuthTestContext> {
  const dataDir = mkdtempSync(join(tmpdir(), "mm-auth-test-"));
  const testDb = options.database === "pglite" ? undefined : await createTestDatabase();
  const config = loadAuthConfig({
    NODE_ENV: "test",
    LOG_LEVEL: "silent",
    DATA_DIR: dataDir,
    DATABASE_URL: testDb?.url ?? "",
    ...options.env,
  });
  const clock = new ManualClock(new Date());
  const database = await openDatabase({ url: config.DATABASE_URL, dataDir });
  await migrateInfra(database);
  await migrateAuth(database);
  const kv = options.kv ?? new MemoryKeyValueStore({ clock });
  const app = await buildApp({
    config,
    logger: options.logger ?? createLogger("auth-test", "silent"),
    clock,
    database,
    kv,
    hasher: options.hasher?.(config),
    wake: options.wake,
  });
  await app.ready();
  return {
    app,
    config,
    clock,
    database,
    kv,
    mails: () => database.db.select().from(mailQueue).orderBy(desc(mailQueue.createdAt)),
    events: () => database.db.select().from(outboxEvents).orderBy(desc(outboxEvents.createdAt)),
    close: async () => {
      await app.close();
      await kv.close();
      await database.close();
      await testDb?.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * One suite per database, each with its own fresh context: the PostgreSQL server (skipped when absent, a
 * failure under MIMASCOTA_REQUIRE_SERVICES) and embedded PGlite. For flows built on hand-written SQL, which
 * must hold on both. `body` gets the suite's context through a function (it exists once `before` has run).
 */
export async function describeOnEachDatabase(
  title: string,
  env: Record<string, string>,
  body: (context: () => AuthTestContext) => void,
): Promise<void> {
  for (const database of ["postgres", "pglite"] as const) {
    const skip = database === "postgres" && (await skipUnless("postgres"));
    describe(`${title} (${database})`, { skip }, () => {
      let ctx: AuthTestContext | undefined;
      before(async () => {
        ctx = await createAuthTestContext({ database, env });
      });
      after(() => ctx?.close());
      body(() => {
        if (!ctx) throw new Error("the suite's context is not open yet");
        return ctx;
      });
    });
  }
}

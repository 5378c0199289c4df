import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { FastifyInstance } from "fastify";
import { TokenVerifier } from "@mimascota/shared/auth/token-verifier";
import { ManualClock } from "@mimascota/shared/clock";
import { openDatabase, type DatabaseHandle } from "@mimascota/shared/db/database";
import { eventType } from "@mimascota/shared/events/outbox";
import type { InboundEvent } from "@mimascota/shared/events/inbound-event";
import { MemoryKeyValueStore } from "@mimascota/shared/kv/memory-key-value-store";
import { createLogger } from "@mimascota/shared/logger";
import { createTestDatabase } from "@mimascota/shared/testing/services";
import { TokenIssuer } from "@mimascota/shared/testing/token-issuer";
import { buildProfileApp } from "../../src/app.ts";
import { loadProfilesConfig, type ProfilesConfig } from "../../src/config.ts";
import { migrateProfiles } from "../../src/db/migrations.ts";
import type { AccountEventsService } from "../../src/services/account-events.service.ts";
import type { PhotoService } from "../../src/services/photo.service.ts";
import type { ObjectStore } from "../../src/storage/object-store.ts";
import { FolderObjectStore } from "../../src/storage/folder-object-store.ts";

export interface ProfileTestContext {
  app: FastifyInstance;
  config: ProfilesConfig;
  clock: ManualClock;
  database: DatabaseHandle;
  store: ObjectStore;
  kv: MemoryKeyValueStore;
  issuer: TokenIssuer;
  events: AccountEventsService;
  photos: PhotoService;
  /** An access token for `userId` (session `s-<userId>`), shaped like the auth service's. */
  token(userId: string, claims?: { email?: string; roles?: string[]; sid?: string }): Promise<string>;
  close(): Promise<void>;
}

/**
 * The profile app over a fresh database (a new PostgreSQL database, or PGlite in a temp folder) and a folder
 * store unless one is given; tokens signed by a stand-in of the auth service's keys, served as a real JWKS.
 */
export async function createProfileTestContext(
  options: { database?: "postgres" | "pglite"; store?: ObjectStore; env?: Record<string, string> } = {},
): Promise<ProfileTestContext> {
  const dataDir = mkdtempSync(join(tmpdir(), "mm-profiles-test-"));
  const testDb = options.database === "pglite" ? undefined : await createTestDatabase();
  const issuer = await new TokenIssuer().start();
  const config = loadProfilesConfig({
    NODE_ENV: "test",
    LOG_LEVEL: "silent",
    DATA_DIR: dataDir,
    DATABASE_URL: testDb?.url ?? "",
    JWKS_URL: issuer.jwksUrl,
    PUBLIC_API_URL: "https://api.mimascota.test",
    ...options.env,
  });
  const clock = new ManualClock(new Date());
  const database = await openDatabase({ url: config.DATABASE_URL, dataDir });
  await migrateProfiles(database);
  const store = options.store ?? new FolderObjectStore({ root: join(dataDir, "objects") });
  const kv = new MemoryKeyValueStore({ clock });
  const built = await buildProfileApp({
    config,
    logger: createLogger("profiles-test", "silent"),
    clock,
    database,
    store,
    kv,
    verifier: new TokenVerifier({ ...config.tokens, clock }),
  });
  await built.app.ready();
  return {
    app: built.app,
    config,
    clock,
    database,
    store,
    kv,
    issuer,
    events: built.events,
    photos: built.photos,
    token: (userId, claims = {}) =>
      issuer.token(
        {
          sub: userId,
          sid: claims.sid ?? `s-${userId}`,
          extra: { email: claims.email ?? `${userId}@example.com`, roles: claims.roles ?? ["client"] },
        },
        clock.now().getTime(),
      ),
    close: async () => {
      await built.app.close();
      await store.close();
      await kv.close();
      await database.close();
      await issuer.close();
      await testDb?.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

let sequence = 0;

/** A `user.registered.v1` event as the auth service publishes it (the nested registration unless `flat`). */
export function registeredEvent(
  userId: string,
  options: { id?: string; flat?: boolean; role?: "client" | "provider"; email?: string } = {},
): InboundEvent {
  const topic = "user.registered.v1";
  return {
    id: options.id ?? `evt-${process.pid}-${++sequence}`,
    topic,
    key: userId,
    type: eventType(topic),
    source: "/mimascota/auth",
    time: new Date(),
    data: {
      userId,
      email: options.email ?? `${userId}@example.com`,
      locale: "es",
      fullName: "Ana María Pérez",
      role: options.role ?? "client",
      ...(options.flat
        ? {}
        : {
            profile: {
              name: "Ana María",
              secondName: "Pérez",
              documentType: "CI",
              document: "12345678",
              birthDate: "1990-05-17",
              ubication: {
                department: "Montevideo",
                city: "Montevideo",
                postalCode: "11200",
                street: "Av. 18 de Julio",
                number: "1234",
                apartment: null,
              },
            },
          }),
      registeredAt: new Date().toISOString(),
    },
  };
}

export function deletedEvent(userId: string, id?: string): InboundEvent {
  const topic = "user.deleted.v1";
  return {
    id: id ?? `evt-${process.pid}-${++sequence}`,
    topic,
    key: userId,
    type: eventType(topic),
    source: "/mimascota/auth",
    time: new Date(),
    data: { userId, deletedAt: new Date().toISOString() },
  };
}

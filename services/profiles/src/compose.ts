import type { FastifyInstance } from "fastify";
import type { Logger } from "pino";
import { TokenVerifier } from "@mimascota/shared/auth/token-verifier";
import { BackgroundLoop } from "@mimascota/shared/background-loop";
import { systemClock, type Clock } from "@mimascota/shared/clock";
import { openDatabase, type DatabaseHandle } from "@mimascota/shared/db/database";
import type { InProcessEventBus } from "@mimascota/shared/events/in-process-event-bus";
import { KafkaEventConsumer } from "@mimascota/shared/events/kafka-event-consumer";
import { kafkaSecurity } from "@mimascota/shared/events/kafka-security";
import { createKeyValueStore } from "@mimascota/shared/kv/create-key-value-store";
import type { KeyValueStore } from "@mimascota/shared/kv/key-value-store";
import { createLogger } from "@mimascota/shared/logger";
import { opsListenerFor } from "@mimascota/shared/ops-port";
import { buildProfileApp, type ProfileApp } from "./app.ts";
import { profilesDataDir, type ProfilesConfig } from "./config.ts";
import { migrateProfiles } from "./db/migrations.ts";
import { CONSUMED_TOPICS } from "./events/account-events.ts";
import { createObjectStore } from "./storage/create-object-store.ts";
import type { ObjectStore } from "./storage/object-store.ts";

/** The operations port in production when OPS_PORT is unset (Prometheus and probes reach it there). */
export const PROFILES_OPS_PORT = 9082;

export interface RunningProfileService {
  app: FastifyInstance;
  ops?: FastifyInstance | undefined;
  database: DatabaseHandle;
  store: ObjectStore;
  events: ProfileApp["events"];
  /** The Kafka consumer, when KAFKA_BROKERS is set and no in-process bus was given. */
  consumer?: KafkaEventConsumer | undefined;
  close(): Promise<void>;
}

export interface ProfileOverrides {
  logger?: Logger;
  /** Shared with the gateway and auth in embedded mode, so revoked sessions are seen in-process. */
  kv?: KeyValueStore;
  clock?: Clock;
  /** Embedded mode: account events arrive from the auth service in the same process, not from Kafka. */
  bus?: InProcessEventBus;
}

/** Opens every dependency named by the config, applies migrations in embedded mode, consumes and listens. */
export async function startProfileService(
  config: ProfilesConfig,
  overrides: ProfileOverrides = {},
): Promise<RunningProfileService> {
  const logger = overrides.logger ?? createLogger("profiles", config.LOG_LEVEL);
  const clock = overrides.clock ?? systemClock;
  const dataDir = profilesDataDir(config);
  const database = await openDatabase({ url: config.DATABASE_URL, dataDir });
  // Embedded data is private to this process, so it is migrated on start; a shared PostgreSQL is migrated
  // explicitly (`npm run migrate`) so that several replicas never race on schema changes.
  if (database.kind === "pglite") await migrateProfiles(database);
  const store = await createObjectStore(config, { dataDir, logger });
  const kv = overrides.kv ?? createKeyValueStore({ url: config.REDIS_URL, logger, clock });
  const consumerLag = {
    current: () => new Map<string, readonly number[]>() as ReadonlyMap<string, readonly number[]>,
  };
  let consumer: KafkaEventConsumer | undefined;

  const built = await buildProfileApp({
    config,
    logger,
    clock,
    database,
    store,
    kv,
    verifier: new TokenVerifier({ ...config.tokens, clock }),
    degradable: { events: async () => consumer?.ping() },
    metricSources: { consumerLag: () => consumerLag.current() },
  });
  if (overrides.bus) {
    overrides.bus.subscribe(CONSUMED_TOPICS, built.events);
  } else if (config.KAFKA_BROKERS.length > 0) {
    const kafka = new KafkaEventConsumer({
      brokers: config.KAFKA_BROKERS,
      security: kafkaSecurity(config),
      clientId: "mimascota-profiles",
      groupId: config.consumer.group,
      topics: [...CONSUMED_TOPICS],
      sink: built.events,
      logger: logger.child({ component: "consumer" }),
      newGroupStartsAt: config.consumer.newGroupStartsAt,
    });
    consumerLag.current = () => kafka.lag();
    consumer = kafka;
  } else {
    logger.warn("no KAFKA_BROKERS and no in-process events: profiles are created at first sign-in only");
  }
  // Housekeeping: photo deletions the store refused (it was down) retried until they succeed; old event ids.
  const sweeper = new BackgroundLoop({
    logger,
    intervalMs: config.housekeeping.intervalMs,
    firstPassAfterInterval: true,
    pass: async () => {
      await built.photos.sweep();
      await built.events.forgetOldEventIds(config.housekeeping.processedEventRetentionMs);
      return "idle";
    },
    log: { failed: "profile housekeeping failed", failedLevel: "warn" },
  });

  const { app } = built;
  const ops = opsListenerFor(app, config, { logger, productionDefault: PROFILES_OPS_PORT });
  consumer?.start();
  sweeper.start();
  await app.listen({ port: config.PORT, host: config.HOST });
  await ops?.listen();

  return {
    app,
    ops: ops?.server,
    database,
    store,
    events: built.events,
    consumer,
    close: async () => {
      await ops?.close();
      await app.close();
      await Promise.allSettled([consumer?.stop(), sweeper.stop()]);
      await Promise.allSettled([store.close(), overrides.kv ? Promise.resolve() : kv.close()]);
      await database.close();
    },
  };
}

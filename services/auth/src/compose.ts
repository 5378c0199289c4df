import type { FastifyInstance } from "fastify";
import type { Logger } from "pino";
import { systemClock, type Clock } from "@mimascota/shared/clock";
import { openDatabase, type DatabaseHandle } from "@mimascota/shared/db/database";
import { migrateInfra } from "@mimascota/shared/db/infra-migrations";
import { createEventPublisher } from "@mimascota/shared/events/create-event-publisher";
import type { EventPublisher } from "@mimascota/shared/events/event-publisher";
import { kafkaSecurity } from "@mimascota/shared/events/kafka-security";
import { OutboxRelay } from "@mimascota/shared/events/outbox-relay";
import { createKeyValueStore } from "@mimascota/shared/kv/create-key-value-store";
import type { KeyValueStore } from "@mimascota/shared/kv/key-value-store";
import { createLogger } from "@mimascota/shared/logger";
import { opsListenerFor } from "@mimascota/shared/ops-port";
import { createMailTransport } from "@mimascota/shared/mail/create-mail-transport";
import { MailWorker } from "@mimascota/shared/mail/mail-worker";
import { buildApp } from "./app.ts";
import type { AuthConfig } from "./config.ts";
import { migrateAuth } from "./db/migrations.ts";
import { Housekeeper } from "./housekeeping.ts";

/** The operations port in production when OPS_PORT is unset (Prometheus and probes reach it there). */
export const AUTH_OPS_PORT = 9006;

export interface RunningAuthService {
  app: FastifyInstance;
  /** The operations listener, when OPS_PORT (or production) puts ops endpoints on their own port. */
  ops?: FastifyInstance | undefined;
  database: DatabaseHandle;
  /** Stops accepting requests, drains in-flight ones, stops the workers and closes every connection. */
  close(): Promise<void>;
}

export interface AuthOverrides {
  logger?: Logger;
  /** Shared with the gateway in embedded mode, so revocations are seen in-process. */
  kv?: KeyValueStore;
  clock?: Clock;
  /** Where events go instead of Kafka or the log (embedded mode: the in-process bus the profile service reads). */
  publisher?: EventPublisher;
}

/** Opens every dependency named by the config, applies migrations in embedded mode, and listens. */
export async function startAuthService(
  config: AuthConfig,
  overrides: AuthOverrides = {},
): Promise<RunningAuthService> {
  const logger = overrides.logger ?? createLogger("auth", config.LOG_LEVEL);
  const clock = overrides.clock ?? systemClock;
  const database = await openDatabase({ url: config.DATABASE_URL, dataDir: config.DATA_DIR });
  // Embedded data is private to this process, so it is migrated on start; a shared PostgreSQL is migrated
  // explicitly (`npm run migrate`) so that several replicas never race on schema changes.
  if (database.kind === "pglite") {
    await migrateInfra(database);
    await migrateAuth(database);
  }
  const kv = overrides.kv ?? createKeyValueStore({ url: config.REDIS_URL, logger, clock });
  const publisher =
    overrides.publisher ??
    createEventPublisher({
      brokers: config.KAFKA_BROKERS,
      security: kafkaSecurity(config),
      clientId: "mimascota-auth",
      logger,
    });
  const relay = new OutboxRelay({ db: database.db, publisher, logger });
  const transport = createMailTransport({
    smtpUrl: config.SMTP_URL,
    from: config.MAIL_FROM,
    dataDir: config.DATA_DIR,
    logger,
  });
  const mailWorker = new MailWorker({ db: database.db, transport, logger, clock });
  const housekeeper = new Housekeeper({ db: database.db, clock, logger, settings: config });

  const app = await buildApp({
    config,
    logger,
    clock,
    database,
    kv,
    wake: { mail: () => mailWorker.poke(), events: () => relay.poke() },
    readiness: { kafka: () => publisher.ping() },
    queueStats: { outbox: () => relay.stats(), mail: () => mailWorker.stats() },
    housekeepingTotals: () => housekeeper.totals(),
    // Only when passes run: a stale "last pass" is what the stall alert looks for.
    housekeepingSchedule:
      config.housekeeping.intervalMs > 0
        ? { lastPass: () => housekeeper.lastPassAt(), intervalSeconds: config.housekeeping.intervalMs / 1000 }
        : undefined,
  });
  const ops = opsListenerFor(app, config, { logger, productionDefault: AUTH_OPS_PORT });
  relay.start();
  mailWorker.start();
  housekeeper.start();
  await app.listen({ port: config.PORT, host: config.HOST });
  await ops?.listen();

  return {
    app,
    ops: ops?.server,
    database,
    close: async () => {
      await ops?.close();
      await app.close();
      await Promise.allSettled([relay.stop(), mailWorker.stop(), housekeeper.stop()]);
      await Promise.allSettled([
        publisher.close(),
        transport.close(),
        overrides.kv ? Promise.resolve() : kv.close(),
      ]);
      await database.close();
    },
  };
}

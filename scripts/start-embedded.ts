/**
 * `npm start`: the whole platform in one process. With no service variables set this is the zero-setup
 * embedded mode (PGlite under DATA_DIR, an in-memory key-value store shared by the three services so
 * revocations reach the gateway and the profile service, events delivered in process from the auth service to
 * the profile service and written to the log, mail to the dev mailbox, photos in a folder). Each variable
 * that is set switches its part to the real server. Production runs each service on its own
 * (`npm run start:auth`, `npm run start:gateway`, `npm run start:profiles`).
 */
import { loadConfigOrExit } from "@mimascota/shared/config";
import { InProcessEventBus } from "@mimascota/shared/events/in-process-event-bus";
import { MemoryKeyValueStore } from "@mimascota/shared/kv/memory-key-value-store";
import { createLogger } from "@mimascota/shared/logger";
import { runUntilSignal } from "@mimascota/shared/process";
import { startAuthService } from "../services/auth/src/compose.ts";
import { loadAuthConfig } from "../services/auth/src/config.ts";
import { startGateway } from "../services/gateway/src/compose.ts";
import { loadGatewayConfig } from "../services/gateway/src/config.ts";
import { startProfileService } from "../services/profiles/src/compose.ts";
import { loadProfilesConfig } from "../services/profiles/src/config.ts";
import { watchParent } from "./parent-watch.ts";
import { startProgressFor } from "./start-output.ts";

// One process, three services: PORT and OPS_PORT would be ambiguous here, so each service takes its own.
const authPort = process.env.AUTH_PORT ?? "8006";
const profilesPort = process.env.PROFILES_PORT ?? "8082";
const authUrl = process.env.AUTH_SERVICE_URL ?? `http://127.0.0.1:${authPort}`;
const [authConfig, profilesConfig, gatewayConfig] = loadConfigOrExit(
  () => loadAuthConfig({ ...process.env, PORT: authPort, OPS_PORT: process.env.AUTH_OPS_PORT ?? "" }),
  () =>
    loadProfilesConfig({
      ...process.env,
      PORT: profilesPort,
      OPS_PORT: process.env.PROFILES_OPS_PORT ?? "",
      AUTH_SERVICE_URL: authUrl,
    }),
  () =>
    loadGatewayConfig({
      ...process.env,
      PORT: process.env.GATEWAY_PORT ?? "8080",
      OPS_PORT: process.env.GATEWAY_OPS_PORT ?? "",
      AUTH_SERVICE_URL: authUrl,
      PROFILES_SERVICE_URL: process.env.PROFILES_SERVICE_URL ?? `http://127.0.0.1:${profilesPort}`,
    }),
);
const logger = createLogger("mimascota", authConfig.LOG_LEVEL);
// The services keep their log level on a terminal too: their info lines carry the dev mailbox's links and the
// events, and errors must show whatever the level.
const progress = startProgressFor(process.stdout, gatewayConfig.NODE_ENV);
const opening = (service: string) =>
  authConfig.DATABASE_URL
    ? `${service}: connecting to PostgreSQL`
    : `${service}: opening its embedded database in ${authConfig.DATA_DIR} (a first start creates it: up to ~30 s)`;
const kv = authConfig.REDIS_URL ? undefined : new MemoryKeyValueStore();
// Without Kafka the auth service's events reach the profile service in process (and the log).
const bus =
  authConfig.KAFKA_BROKERS.length > 0
    ? undefined
    : new InProcessEventBus(createLogger("auth", authConfig.LOG_LEVEL));

progress?.step(opening("auth service"));
const auth = await startAuthService(authConfig, {
  logger: createLogger("auth", authConfig.LOG_LEVEL),
  kv,
  ...(bus ? { publisher: bus } : {}),
});
progress?.done(`auth service on http://localhost:${authConfig.PORT}`);
progress?.step(opening("profile service"));
const profiles = await startProfileService(profilesConfig, {
  logger: createLogger("profiles", profilesConfig.LOG_LEVEL),
  kv,
  ...(bus ? { bus } : {}),
});
progress?.done(`profile service on http://localhost:${profilesConfig.PORT}`);
progress?.step("starting the gateway");
const gateway = await startGateway(gatewayConfig, {
  logger: createLogger("gateway", gatewayConfig.LOG_LEVEL),
  kv,
});
progress?.done(`gateway on http://localhost:${gatewayConfig.PORT}`);
const urls = {
  gateway: `http://localhost:${gatewayConfig.PORT}`,
  // One merged document of the auth and profile services, served by the gateway (its ops port when set).
  docs: `http://localhost:${gatewayConfig.OPS_PORT ?? gatewayConfig.PORT}/docs`,
  mailbox: gatewayConfig.devMailbox ? `http://localhost:${gatewayConfig.PORT}/_dev/mail` : undefined,
};
if (progress) {
  await progress.running({
    ...urls,
    publicAppUrl: authConfig.links.publicAppUrl,
    corsOrigins: gatewayConfig.http.corsOrigins,
    allowedOrigins: authConfig.refresh.allowedOrigins,
  });
} else {
  logger.info(
    {
      ...urls,
      auth: `http://localhost:${authConfig.PORT}`,
      profiles: `http://localhost:${profilesConfig.PORT}`,
      database: auth.database.kind,
      events: bus ? "in process" : "kafka",
    },
    "Mi Mascota is running",
  );
}

runUntilSignal(logger, async () => {
  await gateway.close();
  await profiles.close();
  await auth.close();
  await kv?.close();
});
// `npm start` must not leave this process behind when npm is stopped (see parent-watch.ts); run by anything
// else (a service manager, `nohup node ...`), it outlives its parent as asked.
if (process.env.npm_lifecycle_event) {
  watchParent(() => {
    logger.warn("the npm process that started this one is gone: stopping");
    process.emit("SIGTERM", "SIGTERM");
  });
}

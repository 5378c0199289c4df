/**
 * `npm start`: the whole platform in one process. With no service variables set this is the zero-setup
 * embedded mode (PGlite under DATA_DIR, in-memory key-value store shared by both services so revocations reach
 * the gateway, events to the log, mail to the dev mailbox). Each variable that is set switches its part to the
 * real server. Production runs each service on its own (`npm run start:auth`, `npm run start:gateway`).
 */
import { loadConfigOrExit } from "@mimascota/shared/config";
import { MemoryKeyValueStore } from "@mimascota/shared/kv/memory-key-value-store";
import { createLogger } from "@mimascota/shared/logger";
import { runUntilSignal } from "@mimascota/shared/process";
import { startAuthService } from "../services/auth/src/compose.ts";
import { loadAuthConfig } from "../services/auth/src/config.ts";
import { startGateway } from "../services/gateway/src/compose.ts";
import { loadGatewayConfig } from "../services/gateway/src/config.ts";

// One process, two services: PORT and OPS_PORT would be ambiguous here, so each service takes its own.
const authPort = process.env.AUTH_PORT ?? "8006";
const [authConfig, gatewayConfig] = loadConfigOrExit(
  () => loadAuthConfig({ ...process.env, PORT: authPort, OPS_PORT: process.env.AUTH_OPS_PORT ?? "" }),
  () =>
    loadGatewayConfig({
      ...process.env,
      PORT: process.env.GATEWAY_PORT ?? "8080",
      OPS_PORT: process.env.GATEWAY_OPS_PORT ?? "",
      AUTH_SERVICE_URL: process.env.AUTH_SERVICE_URL ?? `http://127.0.0.1:${authPort}`,
    }),
);
const logger = createLogger("mimascota", authConfig.LOG_LEVEL);
const authLogger = createLogger("auth", authConfig.LOG_LEVEL);
const gatewayLogger = createLogger("gateway", gatewayConfig.LOG_LEVEL);
const kv = authConfig.REDIS_URL ? undefined : new MemoryKeyValueStore();

const auth = await startAuthService(authConfig, { logger: authLogger, kv });
const gateway = await startGateway(gatewayConfig, { logger: gatewayLogger, kv });
logger.info(
  {
    gateway: `http://localhost:${gatewayConfig.PORT}`,
    auth: `http://localhost:${authConfig.PORT}`,
    database: auth.database.kind,
    docs: `http://localhost:${authConfig.PORT}/docs`,
    mailbox:
      gatewayConfig.NODE_ENV === "production"
        ? undefined
        : `http://localhost:${gatewayConfig.PORT}/_dev/mail`,
  },
  "Mi Mascota is running",
);

runUntilSignal(logger, async () => {
  await gateway.close();
  await auth.close();
  await kv?.close();
});

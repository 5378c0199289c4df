import type { FastifyInstance } from "fastify";
import type { Logger } from "pino";
import { systemClock, type Clock } from "@mimascota/shared/clock";
import type { KeyValueStore } from "@mimascota/shared/kv/key-value-store";
import { createLogger } from "@mimascota/shared/logger";
import { buildApp } from "./app.ts";
import type { GatewayConfig } from "./config.ts";
import { RedisCommander } from "./redis-commander.ts";

export interface RunningGateway {
  app: FastifyInstance;
  /** Stops accepting, drains in-flight requests, closes upstream pools and the Redis connection. */
  close(): Promise<void>;
}

export interface GatewayOverrides {
  logger?: Logger;
  /** The auth service's in-process store (embedded mode), where session revocations are written. */
  kv?: KeyValueStore;
  clock?: Clock;
  processMetrics?: boolean;
}

/**
 * Connects to Redis when REDIS_URL is set (the gateway starts even if it is down, on its fallbacks) and
 * listens on PORT/HOST. Without REDIS_URL, limits and cache live in this process and revocations are read
 * from `kv`, which the embedded start script shares with the auth service.
 */
export async function startGateway(
  config: GatewayConfig,
  overrides: GatewayOverrides = {},
): Promise<RunningGateway> {
  const logger = overrides.logger ?? createLogger("gateway", config.LOG_LEVEL);
  const redis = config.REDIS_URL
    ? new RedisCommander({ url: config.REDIS_URL, timeoutMs: config.REDIS_TIMEOUT_MS, logger })
    : undefined;
  await redis?.connect();
  const app = buildApp({
    config,
    logger,
    clock: overrides.clock ?? systemClock,
    redis,
    kv: overrides.kv,
    processMetrics: overrides.processMetrics,
  });
  try {
    await app.listen({ port: config.PORT, host: config.HOST });
  } catch (error) {
    await app.close();
    await redis?.close();
    throw error;
  }
  return {
    app,
    close: async () => {
      await app.close();
      await redis?.close();
    },
  };
}

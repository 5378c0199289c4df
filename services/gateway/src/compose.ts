import type { FastifyInstance } from "fastify";
import type { Logger } from "pino";
import { systemClock, type Clock } from "@mimascota/shared/clock";
import type { KeyValueStore } from "@mimascota/shared/kv/key-value-store";
import { createLogger } from "@mimascota/shared/logger";
import { opsPortOf, separateOps } from "@mimascota/shared/ops-port";
import { RedisConnection } from "@mimascota/shared/redis/redis-connection";
import { buildApp } from "./app.ts";
import type { GatewayConfig } from "./config.ts";
import { isDocsPath } from "./docs/docs.routes.ts";

/** The operations port in production when OPS_PORT is unset (Prometheus and probes reach it there). */
export const GATEWAY_OPS_PORT = 9080;

/** Served only on the operations port in production: metrics, breaker state and (unless PUBLIC_DOCS) the docs. */
const isGatewayOpsPath = (config: GatewayConfig) => (path: string) =>
  path === "/metrics" || path === "/circuit-breakers" || (!config.PUBLIC_DOCS && isDocsPath(path));

export interface RunningGateway {
  app: FastifyInstance;
  /** The operations listener, when OPS_PORT (or production) puts ops endpoints on their own port. */
  ops?: FastifyInstance | undefined;
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
    ? new RedisConnection({ url: config.REDIS_URL, commandTimeoutMs: config.redis.commandTimeoutMs, logger })
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
  const opsPort = opsPortOf(config, GATEWAY_OPS_PORT);
  const ops =
    opsPort === undefined
      ? undefined
      : separateOps(app, { logger, host: config.HOST, port: opsPort, isOpsPath: isGatewayOpsPath(config) });
  try {
    await app.listen({ port: config.PORT, host: config.HOST });
    await ops?.listen();
  } catch (error) {
    await ops?.close();
    await app.close();
    await redis?.close();
    throw error;
  }
  return {
    app,
    ops: ops?.server,
    close: async () => {
      await ops?.close();
      await app.close();
      await redis?.close();
    },
  };
}

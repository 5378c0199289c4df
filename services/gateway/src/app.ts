import type { FastifyInstance } from "fastify";
import type { Logger } from "pino";
import type { Clock } from "@mimascota/shared/clock";
import { createHttpServer } from "@mimascota/shared/http";
import type { KeyValueStore } from "@mimascota/shared/kv/key-value-store";
import type { RedisConnection } from "@mimascota/shared/redis/redis-connection";
import { TokenVerifier } from "@mimascota/shared/auth/token-verifier";
import { CircuitBreaker, type BreakerState } from "./breaker/circuit-breaker.ts";
import { MemoryCacheStore, RedisCacheStore } from "./cache/cache-store.ts";
import { ResponseCache } from "./cache/response-cache.ts";
import type { GatewayConfig } from "./config.ts";
import { registerCors } from "./cors.ts";
import { ApiDocument } from "./docs/api-document.ts";
import { registerDocsRoutes } from "./docs/docs.routes.ts";
import { registerRequestHooks } from "./http-hooks.ts";
import { GatewayMetrics } from "./metrics.ts";
import { GatewayService } from "./proxy/gateway.service.ts";
import { Upstream } from "./proxy/upstream.ts";
import { MemoryAdmissionStore } from "./rate-limit/memory-admission.store.ts";
import { RateLimiter } from "./rate-limit/rate-limiter.ts";
import { RedisAdmissionStore } from "./rate-limit/redis-admission.store.ts";
import { registerDevMailRoutes } from "./routes/dev-mail.routes.ts";
import { registerOpsRoutes } from "./routes/ops.routes.ts";
import { Router } from "./routing/router.ts";

export interface GatewayDeps {
  config: GatewayConfig;
  logger: Logger;
  clock: Clock;
  /** The gateway's Redis connection; undefined in embedded mode. */
  redis: RedisConnection | undefined;
  /** The in-process store the auth service writes revocations to (embedded mode). */
  kv: KeyValueStore | undefined;
  /** Skips process metrics (tests that build several apps in one process). */
  processMetrics?: boolean;
}

const PROXY_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];
const BREAKER_STATE_VALUE: Record<BreakerState, 0 | 1 | 2> = { closed: 0, open: 1, "half-open": 2 };

/** Builds the gateway (not listening): every component from the config, the routes, and their cleanup. */
export function buildApp(deps: GatewayDeps): FastifyInstance {
  const { config, logger, clock, redis } = deps;
  const metrics = new GatewayMetrics({ defaultMetrics: deps.processMetrics ?? true });
  const router = new Router(config.routeTable, { bodyLimit: config.http.bodyLimitBytes });
  const upstreams = new Map<string, Upstream>();
  for (const [name, spec] of Object.entries(config.routeTable.upstreams)) {
    metrics.setBreakerState(name, 0);
    const breaker = new CircuitBreaker(config.breaker, clock, (state) => {
      metrics.setBreakerState(name, BREAKER_STATE_VALUE[state]);
      logger.warn({ upstream: name, state }, "circuit breaker state changed");
    });
    const upstream = new Upstream(
      { name, url: spec.url, healthPath: spec.healthPath, ...config.upstreams },
      breaker,
      metrics,
    );
    upstreams.set(name, upstream);
  }

  const fallback = new MemoryAdmissionStore({ revocations: deps.kv });
  const limiter = new RateLimiter({
    redis: redis ? { store: new RedisAdmissionStore(redis), connection: redis } : undefined,
    fallback,
    metrics,
    clock,
    logger,
    keyPrefix: config.redis.keyPrefix,
    revokedSessionPrefix: config.redis.revokedSessionPrefix,
    ipPolicy: config.rateLimits.ip,
    userPolicy: config.rateLimits.user,
  });
  const cacheStore = redis
    ? new RedisCacheStore(redis)
    : new MemoryCacheStore({ now: () => clock.now().getTime() });
  const cache = new ResponseCache({
    store: cacheStore,
    metrics,
    clock,
    logger,
    keyPrefix: config.redis.keyPrefix,
    ...config.cache,
  });
  const verifier = new TokenVerifier({ ...config.tokens, clock });
  const gateway = new GatewayService({
    upstreams,
    verifier,
    limiter,
    cache,
    metrics,
    trustsProxies: config.http.trustProxy !== false,
    bufferBodiesUpTo: config.http.bufferBodiesUpTo,
  });

  const app = createHttpServer({
    logger,
    bodyLimit: config.http.bodyLimitBytes,
    maxHeaderSize: config.http.maxHeaderBytes,
    requestTimeoutMs: config.http.requestTimeoutMs,
    trustProxy: config.http.trustProxy,
  });
  // Bodies are streamed to the upstream untouched: no parsing, whatever the content type.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("*", (_request, _payload, done) => done(null));
  registerRequestHooks(app, router, metrics);
  registerCors(app, config.http.corsOrigins);

  metrics.redisUp.set(redis ? (redis.isReady ? 1 : 0) : 1);
  redis?.onStateChange((up) => metrics.redisUp.set(up ? 1 : 0));
  registerOpsRoutes(app, {
    metrics,
    upstreams,
    cacheKind: cacheStore.kind,
    redis: {
      configured: redis !== undefined,
      ping: async () =>
        redis
          ? redis.ping().then(
              () => true,
              () => false,
            )
          : true,
    },
  });
  if (config.devMailbox) registerDevMailRoutes(app, config.DATA_DIR);
  registerDocsRoutes(app, new ApiDocument({ ...config.docs, router, clock, logger }));
  app.route({
    method: PROXY_METHODS,
    url: "/*",
    handler: (request, reply) => gateway.handle(request, reply),
  });

  app.addHook("onClose", async () => {
    fallback.close();
    await Promise.allSettled([...upstreams.values()].map((u) => u.close()));
  });
  return app;
}

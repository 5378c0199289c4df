import type { FastifyInstance } from "fastify";
import type { GatewayMetrics } from "../metrics.ts";
import type { Upstream } from "../proxy/upstream.ts";

export interface OpsRouteDeps {
  metrics: GatewayMetrics;
  upstreams: Map<string, Upstream>;
  /** How shared state is reached now: Redis, or the per-instance fallbacks. */
  redis: { configured: boolean; ping(): Promise<boolean> };
  cacheKind: "redis" | "memory";
}

/**
 * Liveness, readiness, metrics and breaker state. /ready answers 200 while the gateway can serve at all and
 * reports degraded dependencies in its body: taking every gateway out of a load balancer because Redis or
 * one upstream is down would turn a partial outage into a total one.
 */
export function registerOpsRoutes(app: FastifyInstance, deps: OpsRouteDeps): void {
  app.get("/health", async () => ({ status: "ok" }));

  app.get("/ready", async (_request, reply) => {
    const [redisUp, ...probes] = await Promise.all([
      deps.redis.configured ? deps.redis.ping() : Promise.resolve(true),
      ...[...deps.upstreams.values()].map((u) => u.probe()),
    ]);
    const upstreams: Record<string, { status: "ok" | "down"; breaker: string }> = {};
    [...deps.upstreams.values()].forEach((upstream, i) => {
      upstreams[upstream.name] = { status: probes[i] ? "ok" : "down", breaker: upstream.breaker.state };
    });
    const degraded = !redisUp || probes.some((ok) => !ok);
    reply.header("cache-control", "no-store");
    return {
      status: degraded ? "degraded" : "ready",
      checks: {
        redis: deps.redis.configured
          ? redisUp
            ? "ok"
            : "down"
          : "not configured (embedded in-memory store)",
        upstreams,
      },
      rateLimits: deps.redis.configured && redisUp ? "redis" : "in-memory (per instance)",
      cache: deps.redis.configured ? (redisUp ? "redis" : "bypassed") : deps.cacheKind,
    };
  });

  app.get("/metrics", async (_request, reply) => {
    const body = await deps.metrics.registry.metrics();
    return reply.type(deps.metrics.registry.contentType).header("cache-control", "no-store").send(body);
  });

  app.get("/circuit-breakers", async (_request, reply) => {
    reply.header("cache-control", "no-store");
    const breakers: Record<string, ReturnType<Upstream["breaker"]["snapshot"]>> = {};
    for (const upstream of deps.upstreams.values()) breakers[upstream.name] = upstream.breaker.snapshot();
    return breakers;
  });
}

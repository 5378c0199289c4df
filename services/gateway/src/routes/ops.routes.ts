import type { FastifyInstance } from "fastify";
import { checkReadiness } from "@mimascota/shared/readiness";
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
    const upstreams = [...deps.upstreams.values()];
    // Everything here is degradable: the gateway serves on its fallbacks without Redis, and one upstream down
    // is that upstream's outage, not the gateway's.
    const readiness = await checkReadiness({
      degradable: {
        ...(deps.redis.configured ? { redis: () => deps.redis.ping() } : {}),
        ...Object.fromEntries(upstreams.map((u) => [`upstream:${u.name}`, () => u.probe()])),
      },
    });
    const redisUp = !deps.redis.configured || readiness.checks.redis === "ok";
    reply.header("cache-control", "no-store");
    return {
      status: readiness.status,
      checks: {
        redis: deps.redis.configured
          ? redisUp
            ? "ok"
            : "down"
          : "not configured (embedded in-memory store)",
        upstreams: Object.fromEntries(
          upstreams.map((u) => [
            u.name,
            {
              status: readiness.checks[`upstream:${u.name}`] === "ok" ? "ok" : "down",
              breaker: u.breaker.state,
            },
          ]),
        ),
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

import type { FastifyReply } from "fastify";
import type { Logger } from "pino";
import type { Clock } from "@mimascota/shared/clock";
import type { RedisConnection } from "@mimascota/shared/redis/redis-connection";
import type { VerifiedToken } from "@mimascota/shared/auth/token-verifier";
import type { GatewayMetrics } from "../metrics.ts";
import type { GatewayRoute, RateLimitPolicy } from "../routing/router.ts";
import type { Admission, AdmissionStore } from "./admission-store.ts";
import type { LimitCheck, LimitState } from "./gcra.ts";
import { rateLimitSubject } from "./client-subject.ts";
import type { MemoryAdmissionStore } from "./memory-admission.store.ts";

export interface RateLimitDecision {
  outcome: Admission["outcome"];
  policies: readonly RateLimitPolicy[];
  limits: LimitState[];
  /** The `RateLimit-Policy` value, prepared once per route. */
  policyHeader: string;
  /** Decided without Redis: per-instance limits, revocation not checked (unless in-process). */
  degraded: boolean;
}

export interface RateLimiterOptions {
  redis: { store: AdmissionStore; connection: RedisConnection } | undefined;
  fallback: MemoryAdmissionStore;
  metrics: GatewayMetrics;
  clock: Clock;
  logger: Logger;
  keyPrefix: string;
  revokedSessionPrefix: string;
  ipPolicy: RateLimitPolicy;
  userPolicy: RateLimitPolicy;
}

/**
 * Chooses the policies for a request (per user when a valid token came with it, else per IP, plus the
 * route's own, keyed the same way), asks the admission store, and renders the IETF and X-RateLimit headers.
 * Redis down: the per-instance fallback decides, and a revocation can only be seen if it was written in this
 * process (embedded mode). That is a deliberate fail-open for revocation: access tokens live 15 minutes, and
 * refusing every authenticated request during a Redis outage would take the whole API down instead.
 */
export class RateLimiter {
  readonly #options: RateLimiterOptions;
  readonly #plans = new Map<GatewayRoute, { ip: Plan; user: Plan }>();

  constructor(options: RateLimiterOptions) {
    this.#options = options;
  }

  get usingRedis(): boolean {
    return this.#options.redis?.connection.isReady ?? false;
  }

  async admit(route: GatewayRoute, ip: string, token: VerifiedToken | undefined): Promise<RateLimitDecision> {
    const plan = this.#plan(route)[token ? "user" : "ip"];
    const prefix = this.#options.keyPrefix;
    const subject = rateLimitSubject(ip);
    const checks: LimitCheck[] = plan.policies.map((policy) => ({
      key: `${prefix}rl:${policy.name}:${policy.per === "user" && token ? `u:${token.userId}` : subject}`,
      limit: policy.limit,
      windowMs: policy.windowMs,
    }));
    const revocationKey = token ? this.#options.revokedSessionPrefix + token.sessionId : undefined;
    const now = this.#options.clock.now().getTime();
    let admission: Admission;
    let degraded = false;
    const redis = this.#options.redis;
    if (redis && redis.connection.isReady) {
      try {
        admission = await redis.store.admit(now, checks, revocationKey);
      } catch (error) {
        this.#options.logger.debug({ err: error }, "rate limit via redis failed; using the fallback");
        admission = await this.#fallback(now, checks, revocationKey);
        degraded = true;
      }
    } else {
      admission = await this.#fallback(now, checks, revocationKey);
      degraded = redis !== undefined;
    }
    if (degraded) {
      this.#options.metrics.degraded.labels("rate_limit").inc();
      if (revocationKey) this.#options.metrics.degraded.labels("revocation").inc();
    }
    if (admission.outcome === "limited") {
      admission.limits.forEach((limit, i) => {
        if (limit.retryAfterMs > 0)
          this.#options.metrics.rateLimitRejections.labels(plan.policies[i]!.name).inc();
      });
    }
    return {
      outcome: admission.outcome,
      policies: plan.policies,
      limits: admission.limits,
      policyHeader: plan.header,
      degraded,
    };
  }

  #fallback(now: number, checks: LimitCheck[], revocationKey: string | undefined): Promise<Admission> {
    return this.#options.fallback.admit(now, checks, revocationKey);
  }

  #plan(route: GatewayRoute): { ip: Plan; user: Plan } {
    let plans = this.#plans.get(route);
    if (!plans) {
      plans = {
        ip: plan([this.#options.ipPolicy, ...route.policies]),
        user: plan([this.#options.userPolicy, ...route.policies]),
      };
      this.#plans.set(route, plans);
    }
    return plans;
  }
}

interface Plan {
  policies: RateLimitPolicy[];
  header: string;
}

function plan(policies: RateLimitPolicy[]): Plan {
  return {
    policies,
    header: policies.map((p) => `"${p.name}";q=${p.limit};w=${p.windowMs / 1000}`).join(", "),
  };
}

/**
 * `RateLimit-Policy` and `RateLimit` (draft-ietf-httpapi-ratelimit-headers: one item per policy, `r`
 * remaining and `t` seconds until the quota is whole again), and the legacy X-RateLimit-* trio for the most
 * constrained policy (`X-RateLimit-Reset` in seconds from now, like `t`). A 429 adds Retry-After.
 */
export function applyRateLimitHeaders(reply: FastifyReply, decision: RateLimitDecision): number {
  const { policies, limits } = decision;
  reply.header("ratelimit-policy", decision.policyHeader);
  if (limits.length === 0) return 0;
  let ratelimit = "";
  let tightest = 0;
  let retryAfterMs = 0;
  for (let i = 0; i < limits.length; i++) {
    const limit = limits[i]!;
    const policy = policies[i]!;
    if (i > 0) ratelimit += ", ";
    ratelimit += `"${policy.name}";r=${limit.remaining};t=${Math.ceil(limit.resetMs / 1000)}`;
    if (limit.remaining / policy.limit < limits[tightest]!.remaining / policies[tightest]!.limit)
      tightest = i;
    if (limit.retryAfterMs > retryAfterMs) retryAfterMs = limit.retryAfterMs;
  }
  if (retryAfterMs > 0) {
    for (let i = 0; i < limits.length; i++) {
      if (limits[i]!.retryAfterMs === retryAfterMs) tightest = i;
    }
  }
  const limit = limits[tightest]!;
  reply.header("ratelimit", ratelimit);
  reply.header("x-ratelimit-limit", policies[tightest]!.limit);
  reply.header("x-ratelimit-remaining", limit.remaining);
  reply.header("x-ratelimit-reset", Math.ceil(limit.resetMs / 1000));
  const retryAfter = retryAfterMs > 0 ? Math.max(1, Math.ceil(retryAfterMs / 1000)) : 0;
  if (retryAfter > 0) reply.header("retry-after", retryAfter);
  return retryAfter;
}

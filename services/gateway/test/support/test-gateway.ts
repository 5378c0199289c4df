import type { Clock } from "@mimascota/shared/clock";
import type { KeyValueStore } from "@mimascota/shared/kv/key-value-store";
import { createLogger } from "@mimascota/shared/logger";
import { serviceUrls, uniquePrefix } from "@mimascota/shared/testing/services";
import { startGateway, type RunningGateway } from "../../src/compose.ts";
import { loadGatewayConfig, type GatewayConfig } from "../../src/config.ts";
import type { RouteTableSpec } from "../../src/routing/route-table.ts";
import { TokenIssuer } from "@mimascota/shared/testing/token-issuer";
import { TestUpstream } from "./upstream.ts";

export interface TestGateway extends RunningGateway {
  url: string;
  config: GatewayConfig;
  fetch(path: string, init?: RequestInit): Promise<Response>;
}

/** A table with one upstream `app`: public exact paths and a guarded prefix, cache on `/api/cached*`. */
export function testRoutes(upstreamUrl: string, extra: Partial<RouteTableSpec> = {}): RouteTableSpec {
  return {
    upstreams: { app: { url: upstreamUrl, healthPath: "/health" } },
    policies: { login: { limit: 3, window: 60, per: "ip" }, ...extra.policies },
    routes: [
      { path: "/api/public", upstream: "app", public: true, rateLimits: [], cache: false },
      { path: "/api/v1/auth/login", upstream: "app", public: true, rateLimits: ["login"], cache: false },
      { path: "/api/public-cached", upstream: "app", public: true, rateLimits: [], cache: true },
      { prefix: "/api/cached/", upstream: "app", public: false, rateLimits: [], cache: true },
      { prefix: "/api/", upstream: "app", public: false, rateLimits: [], cache: false, bodyLimit: 1024 },
      ...(extra.routes ?? []),
    ],
  };
}

/** Starts a real gateway on a free port; `env` overrides settings as an operator would. */
export async function startTestGateway(options: {
  routes: RouteTableSpec;
  jwksUrl?: string;
  env?: Record<string, string>;
  clock?: Clock;
  kv?: KeyValueStore;
  redisUrl?: string | null;
  keyPrefix?: string;
  processMetrics?: boolean;
}): Promise<TestGateway> {
  const config = loadGatewayConfig({
    PORT: "0",
    LOG_LEVEL: "silent",
    NODE_ENV: "test",
    GATEWAY_ROUTES: JSON.stringify(options.routes),
    JWKS_URL: options.jwksUrl ?? "http://127.0.0.1:9/.well-known/jwks.json",
    REDIS_URL: options.redisUrl === null ? "" : (options.redisUrl ?? serviceUrls.redis),
    REDIS_KEY_PREFIX: options.keyPrefix ?? `${uniquePrefix("gw-test")}:`,
    REVOKED_SESSION_KEY_PREFIX: `${options.keyPrefix ?? uniquePrefix("gw-test")}:revoked-session:`,
    DEV_MAILBOX: "false",
    ...options.env,
  });
  const running = await startGateway(config, {
    logger: createLogger("gateway-test", "silent"),
    clock: options.clock,
    kv: options.kv,
    processMetrics: options.processMetrics ?? false,
  });
  const address = running.app.server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  const url = `http://127.0.0.1:${port}`;
  const gateway: TestGateway = {
    ...running,
    url,
    config,
    fetch: (path, init) => fetch(`${url}${path}`, init),
  };
  // The gateway keeps serving on its in-memory fallback when Redis is unreachable; a suite on the shared Redis
  // must not pass on that fallback unnoticed. (Suites that give their own Redis manage its outages.)
  if (options.redisUrl === undefined && !options.kv) await expectRedisInUse(gateway);
  return gateway;
}

async function expectRedisInUse(gateway: TestGateway): Promise<void> {
  const ready = (await (await gateway.fetch("/ready")).json()) as { rateLimits?: string };
  if (ready.rateLimits !== "redis") {
    await gateway.close();
    throw new Error(
      `the test gateway is not using Redis at ${gateway.config.REDIS_URL}: ${JSON.stringify(ready)}`,
    );
  }
}

export interface GatewayStack {
  upstream: TestUpstream;
  issuer: TokenIssuer;
  gateway: TestGateway;
  close(): Promise<void>;
}

/** A test upstream, a token issuer and a gateway in front of the one (`testRoutes`) trusting the other's keys. */
export async function startGatewayStack(env: Record<string, string>): Promise<GatewayStack> {
  const upstream = await new TestUpstream().start();
  const issuer = await new TokenIssuer().start();
  const gateway = await startTestGateway({ routes: testRoutes(upstream.url), jwksUrl: issuer.jwksUrl, env });
  return {
    upstream,
    issuer,
    gateway,
    close: async () => {
      await gateway.close();
      await upstream.close();
      await issuer.close();
    },
  };
}

import { readFileSync } from "node:fs";
import { z } from "zod";
import { tokenVerificationConfigShape, tokenVerifierOptions } from "@mimascota/shared/auth/token-verifier";
import {
  baseConfigShape,
  ConfigError,
  env,
  parseConfig,
  pickVariables,
  redisConfigShape,
  variablesOf,
} from "@mimascota/shared/config";
import { REVOKED_SESSION_PREFIX } from "@mimascota/shared/auth-contract";
import { opsConfigShape } from "@mimascota/shared/ops-port";
import type { BreakerSettings } from "./breaker/circuit-breaker.ts";
import { defaultRouteTable } from "./routing/default-routes.ts";
import { parseRouteTable, type RouteTableSpec } from "./routing/route-table.ts";
import type { RateLimitPolicy } from "./routing/router.ts";

export const gatewayConfigSchema = z.object({
  ...baseConfigShape,
  ...redisConfigShape,
  ...opsConfigShape,
  PORT: env.port(8080),
  HOST: env.string("127.0.0.1"),
  AUTH_SERVICE_URL: env.url("http://127.0.0.1:8006"),
  PROFILES_SERVICE_URL: env.url("http://127.0.0.1:8082"),
  /** A JSON route table (see the gateway README, "Route table"); unset means the built-in table. */
  GATEWAY_ROUTES_FILE: env.optionalString(),
  /** The same table inline, as JSON; wins over the file. */
  GATEWAY_ROUTES: env.optionalString(),

  ...tokenVerificationConfigShape,
  REVOKED_SESSION_KEY_PREFIX: env.string(REVOKED_SESSION_PREFIX),

  RATE_LIMIT_IP: env.int(100, 1),
  RATE_LIMIT_USER: env.int(300, 1),
  RATE_LIMIT_WINDOW: env.int(60, 1),
  RATE_LIMIT_LOGIN: env.int(10, 1),
  RATE_LIMIT_REGISTER: env.int(5, 1),
  RATE_LIMIT_PASSWORD_RESET: env.int(5, 1),
  RATE_LIMIT_RESEND: env.int(5, 1),
  RATE_LIMIT_TWO_FACTOR: env.int(10, 1),
  /** Addresses or CIDRs whose X-Forwarded-For is believed; empty means the socket peer is the client. */
  TRUSTED_PROXIES: env.proxies(),
  CORS_ORIGINS: env.list(["http://localhost:3000", "http://localhost:5173"]),

  BREAKER_CONSECUTIVE_FAILURES: env.int(5, 1),
  BREAKER_FAILURE_RATE: z.preprocess(
    (v) => (v === "" || v === undefined ? 50 : v),
    z.coerce.number().min(1).max(100),
  ),
  BREAKER_MIN_CALLS: env.int(20, 1),
  BREAKER_WINDOW: env.int(10, 1),
  BREAKER_OPEN_DURATION: env.int(60, 1),
  BREAKER_HALF_OPEN_PROBES: env.int(3, 1),
  BREAKER_CLOSE_AFTER: env.int(2, 1),

  CACHE_MAX_TTL: env.int(300, 0),
  CACHE_MAX_BODY_BYTES: env.int(1024 * 1024, 0),
  BODY_LIMIT_BYTES: env.int(1024 * 1024, 0),
  /**
   * The auth service's own BODY_LIMIT_BYTES, applied to its routes in the built-in table. A larger body must
   * be refused here: the auth service answers 413 before reading it and closes the connection, which the
   * gateway would see mid-upload as an upstream failure (a 5xx, and a strike against the breaker).
   */
  AUTH_BODY_LIMIT_BYTES: env.int(16 * 1024, 0),
  /** The profile service's JSON limit (its BODY_LIMIT_BYTES), for POST /api/v1/profiles. */
  PROFILES_BODY_LIMIT_BYTES: env.int(16 * 1024, 0),
  /**
   * Under /api/v1/profiles/: a photo upload (the profile service's PHOTO_MAX_BYTES, 5 MiB) plus the multipart
   * envelope. The profile service reads bodies up to this on those routes before refusing them, so a large
   * body is its 4xx, never a connection cut mid-upload that would count against its breaker.
   */
  PROFILES_UPLOAD_LIMIT_BYTES: env.int(5 * 1024 * 1024 + 64 * 1024, 0),

  /**
   * Largest request head accepted, below the 16 KiB every upstream's Node server takes: the gateway adds
   * headers (X-Request-Id, X-User-Id, X-Forwarded-*), and a head over the upstream's limit came back as the
   * upstream's 431 instead of the gateway's own.
   */
  MAX_HEADER_BYTES: env.int(15 * 1024, 1024),

  /** Time a client has to send its whole request, body included, before 408 (see CLIENT_BODY_BUFFER_BYTES). */
  REQUEST_TIMEOUT_MS: env.int(30_000, 100),
  /**
   * Bodies on routes whose limit is at most this are read in full before the upstream is called (every auth
   * route), like nginx's request buffering: a client sending slowly then holds a gateway socket, never one of
   * the upstream's UPSTREAM_CONNECTIONS. Larger limits are streamed, bounded by REQUEST_TIMEOUT_MS.
   */
  CLIENT_BODY_BUFFER_BYTES: env.int(64 * 1024, 0),
  UPSTREAM_CONNECT_TIMEOUT_MS: env.int(2_000, 1),
  UPSTREAM_TIMEOUT_MS: env.int(15_000, 1),
  UPSTREAM_CONNECTIONS: env.int(128, 1),
  UPSTREAM_KEEP_ALIVE_MS: env.int(30_000, 1),

  REDIS_KEY_PREFIX: env.string("gw:"),
  REDIS_TIMEOUT_MS: env.int(250, 1),
  /**
   * Where the gateway fetches each upstream's own OpenAPI document for the merged one at /openapi.json: in
   * production the upstreams serve it on their ops port. Unset: `<upstream URL>/openapi.json`.
   */
  AUTH_OPENAPI_URL: env.optionalUrl(),
  PROFILES_OPENAPI_URL: env.optionalUrl(),
  /** Seconds a fetched upstream document is used before it is fetched again (the last good copy outlives it). */
  OPENAPI_CACHE_TTL: env.int(60, 1),
  /** The dev mailbox page at /_dev/mail; always off when NODE_ENV=production. */
  DEV_MAILBOX: env.bool(true),
});

/** The environment as parsed: the operators' names and units (seconds), before `gatewaySettings` maps it. */
export type GatewayEnv = z.output<typeof gatewayConfigSchema>;

/**
 * What the gateway connects to and listens on, kept under the variables' own names (shared helpers such as
 * `opsPortOf` and the start scripts read these); TRUSTED_PROXIES as the operator wrote it.
 */
const connectionKeys = [
  ...variablesOf(baseConfigShape, redisConfigShape, opsConfigShape),
  "PORT",
  "HOST",
  "TRUSTED_PROXIES",
] as const satisfies readonly (keyof GatewayEnv)[];

const SECOND = 1000;

/**
 * The gateway's settings, grouped by what they configure, durations in milliseconds; the token verifier's in
 * seconds, as JWT times are counted.
 */
export function gatewaySettings(env: GatewayEnv) {
  const rateLimitWindowMs = env.RATE_LIMIT_WINDOW * SECOND;
  const routeTable = loadRouteTable(env);
  const documentOverrides: Record<string, string | undefined> = {
    auth: env.AUTH_OPENAPI_URL,
    profiles: env.PROFILES_OPENAPI_URL,
  };
  return {
    /** The built-in table, or the operator's (GATEWAY_ROUTES, GATEWAY_ROUTES_FILE). */
    routeTable,
    http: {
      bodyLimitBytes: env.BODY_LIMIT_BYTES,
      maxHeaderBytes: env.MAX_HEADER_BYTES,
      requestTimeoutMs: env.REQUEST_TIMEOUT_MS,
      trustProxy: env.TRUSTED_PROXIES.length > 0 ? env.TRUSTED_PROXIES : (false as const),
      /** Bodies on routes allowing at most this are read in full before the upstream is called. */
      bufferBodiesUpTo: env.CLIENT_BODY_BUFFER_BYTES,
      corsOrigins: env.CORS_ORIGINS,
    },
    upstreams: {
      connections: env.UPSTREAM_CONNECTIONS,
      connectTimeoutMs: env.UPSTREAM_CONNECT_TIMEOUT_MS,
      timeoutMs: env.UPSTREAM_TIMEOUT_MS,
      keepAliveMs: env.UPSTREAM_KEEP_ALIVE_MS,
    },
    breaker: {
      consecutiveFailures: env.BREAKER_CONSECUTIVE_FAILURES,
      failureRate: env.BREAKER_FAILURE_RATE / 100,
      minCalls: env.BREAKER_MIN_CALLS,
      windowMs: env.BREAKER_WINDOW * SECOND,
      openMs: env.BREAKER_OPEN_DURATION * SECOND,
      halfOpenProbes: env.BREAKER_HALF_OPEN_PROBES,
      closeAfter: env.BREAKER_CLOSE_AFTER,
    } satisfies BreakerSettings,
    /** Every request's limit, per client address or per signed-in user; the routes' own are in the table. */
    rateLimits: {
      ip: { name: "ip", limit: env.RATE_LIMIT_IP, windowMs: rateLimitWindowMs, per: "ip" },
      user: { name: "user", limit: env.RATE_LIMIT_USER, windowMs: rateLimitWindowMs, per: "user" },
    } satisfies Record<string, RateLimitPolicy>,
    cache: { maxTtlSeconds: env.CACHE_MAX_TTL, maxBodyBytes: env.CACHE_MAX_BODY_BYTES },
    /** Access-token verification (`TokenVerifier`'s options). */
    tokens: tokenVerifierOptions(env),
    redis: {
      keyPrefix: env.REDIS_KEY_PREFIX,
      revokedSessionPrefix: env.REVOKED_SESSION_KEY_PREFIX,
      commandTimeoutMs: env.REDIS_TIMEOUT_MS,
    },
    /** The merged OpenAPI document (/openapi.json, /docs): where each upstream's own document is fetched. */
    docs: {
      sources: Object.fromEntries(
        Object.entries(routeTable.upstreams).map(([name, upstream]) => [
          name,
          documentOverrides[name] ?? new URL("/openapi.json", upstream.url).toString(),
        ]),
      ),
      ttlMs: env.OPENAPI_CACHE_TTL * SECOND,
      timeoutMs: env.UPSTREAM_TIMEOUT_MS,
    },
    /** The dev mailbox page: never in production. */
    devMailbox: env.DEV_MAILBOX && env.NODE_ENV !== "production",
  };
}

export type GatewaySettings = ReturnType<typeof gatewaySettings>;

/** What the gateway is built from: where it connects (variables' names) and its settings by concern. */
export type GatewayConfig = Pick<GatewayEnv, (typeof connectionKeys)[number]> & GatewaySettings;

/**
 * Parses and checks the environment (every bad variable named at once), then maps it once: nothing else reads
 * a variable's name or converts its unit.
 */
export function loadGatewayConfig(environment: NodeJS.ProcessEnv = process.env): GatewayConfig {
  const parsed = parseConfig(gatewayConfigSchema, environment);
  return { ...pickVariables(parsed, connectionKeys), ...gatewaySettings(parsed) };
}

function loadRouteTable(config: GatewayEnv): RouteTableSpec {
  let source: string | undefined = config.GATEWAY_ROUTES;
  let name = "GATEWAY_ROUTES";
  if (source === undefined && config.GATEWAY_ROUTES_FILE !== undefined) {
    name = "GATEWAY_ROUTES_FILE";
    try {
      source = readFileSync(config.GATEWAY_ROUTES_FILE, "utf8");
    } catch (error) {
      throw new ConfigError(`Invalid configuration:\n  ${name}: cannot read (${(error as Error).message})`);
    }
  }
  if (source === undefined) return defaultRouteTable(config);
  let json: unknown;
  try {
    json = JSON.parse(source);
  } catch {
    throw new ConfigError(`Invalid configuration:\n  ${name}: not valid JSON`);
  }
  return parseRouteTable(json, name);
}

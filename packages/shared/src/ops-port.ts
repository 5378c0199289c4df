import { randomBytes } from "node:crypto";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { Logger } from "pino";
import { z } from "zod";
import { env } from "./config.ts";
import { commonError } from "./errors.ts";
import { createHttpServer, sendProblem } from "./http.ts";

/** Settings of the operations port, shared by every service. */
export const opsConfigShape = {
  /**
   * Port of the operations listener (metrics, breaker state, readiness details, and the API docs). Unset: in
   * production the service's default ops port, elsewhere none (everything on the public port, as in
   * development).
   */
  OPS_PORT: z.preprocess(
    (v) => (v === "" ? undefined : v),
    z.coerce.number().int().min(0).max(65535).optional(),
  ),
  /** Serve the API docs (/docs, /openapi.json) on the public port on purpose. */
  PUBLIC_DOCS: env.bool(false),
};

export interface OpsSettings {
  NODE_ENV: string;
  OPS_PORT?: number | undefined;
}

/** The operations port to listen on, or undefined when operations endpoints stay on the public port. */
export function opsPortOf(config: OpsSettings, productionDefault: number): number | undefined {
  if (config.OPS_PORT !== undefined) return config.OPS_PORT;
  return config.NODE_ENV === "production" ? productionDefault : undefined;
}

/** The API docs UI and its document: served only on the operations port unless PUBLIC_DOCS. */
export const isDocsPath = (path: string) =>
  path === "/openapi.json" || path === "/docs" || path.startsWith("/docs/");

/**
 * A service's operations listener, or undefined when its ops endpoints stay on the public port (see
 * `opsPortOf`): `/metrics`, the docs unless PUBLIC_DOCS, and `extraOpsPaths` move there.
 */
export function opsListenerFor(
  app: FastifyInstance,
  config: OpsSettings & { HOST: string; PUBLIC_DOCS: boolean },
  options: { logger: Logger; productionDefault: number; extraOpsPaths?: readonly string[] },
): OpsListener | undefined {
  const port = opsPortOf(config, options.productionDefault);
  if (port === undefined) return undefined;
  const extra = new Set(["/metrics", ...(options.extraOpsPaths ?? [])]);
  return separateOps(app, {
    logger: options.logger,
    host: config.HOST,
    port,
    isOpsPath: (path) => extra.has(path) || (!config.PUBLIC_DOCS && isDocsPath(path)),
  });
}

export interface OpsPortOptions {
  logger: Logger;
  host: string;
  port: number;
  /** Paths (without the query) served only on the operations port; `/ready`'s details are always among them. */
  isOpsPath: (path: string) => boolean;
  /** How long the public `/ready` status is reused, so probing it cannot be turned into load on dependencies. */
  readyCacheMs?: number;
}

export interface OpsListener {
  server: FastifyInstance;
  listen(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Moves a service's operations endpoints to a separate listener, for the scraper and the orchestrator only.
 * The routes stay where they are defined; the public port answers them 404, except `/health` and a bare
 * `/ready` status (reused for `readyCacheMs`), while the operations listener serves them by injecting the
 * request into the service with a per-process key no client can know. Call before the app is ready.
 */
export function separateOps(app: FastifyInstance, options: OpsPortOptions): OpsListener {
  const key = randomBytes(32).toString("base64url");
  const internal = (request: FastifyRequest) => request.headers["x-ops-key"] === key;
  const readyCacheMs = options.readyCacheMs ?? 5_000;
  let ready: { at: number; answer: Promise<{ statusCode: number; status: string }> } | undefined;

  const readiness = () => {
    const now = Date.now();
    if (!ready || now - ready.at >= readyCacheMs) {
      const answer = app
        .inject({ method: "GET", url: "/ready", headers: { "x-ops-key": key } })
        .then((response) => ({
          statusCode: response.statusCode,
          status: String((response.json<{ status?: unknown }>().status ?? "unavailable") as string),
        }));
      ready = { at: now, answer };
    }
    return ready.answer;
  };

  app.addHook("onRequest", async (request: FastifyRequest, reply: FastifyReply) => {
    if (internal(request)) return;
    const path = request.url.split("?")[0] ?? "";
    if (path === "/ready") {
      const { statusCode, status } = await readiness();
      // Serialised here: the route's own response schema describes the detailed answer.
      return reply
        .status(statusCode)
        .header("cache-control", "no-store")
        .type("application/json; charset=utf-8")
        .send(JSON.stringify({ status }));
    }
    if (options.isOpsPath(path)) return sendProblem(reply, request, commonError("NOT_FOUND"));
  });

  const server = createHttpServer({ logger: options.logger.child({ listener: "ops" }), bodyLimit: 1024 });
  server.route({
    method: ["GET", "HEAD"],
    url: "/*",
    handler: async (request, reply) => {
      const path = request.url.split("?")[0] ?? "";
      if (path !== "/health" && path !== "/ready" && !options.isOpsPath(path)) {
        return sendProblem(reply, request, commonError("NOT_FOUND"));
      }
      const response = await app.inject({
        method: request.method as "GET" | "HEAD",
        url: request.url,
        headers: { ...pickHeaders(request), "x-ops-key": key },
      });
      for (const [name, value] of Object.entries(response.headers)) {
        if (value !== undefined && !HOP_BY_HOP.has(name)) reply.header(name, value);
      }
      return reply.status(response.statusCode).send(response.rawPayload);
    },
  });

  return {
    server,
    listen: async () => {
      await server.listen({ port: options.port, host: options.host });
    },
    close: () => server.close(),
  };
}

const HOP_BY_HOP = new Set(["connection", "keep-alive", "transfer-encoding", "content-length", "date"]);

/** What a scraper or a browser on the docs page may pass on: content negotiation only. */
function pickHeaders(request: FastifyRequest): Record<string, string> {
  const picked: Record<string, string> = {};
  for (const name of ["accept", "accept-encoding", "accept-language", "x-request-id"]) {
    const value = request.headers[name];
    if (typeof value === "string") picked[name] = value;
  }
  return picked;
}

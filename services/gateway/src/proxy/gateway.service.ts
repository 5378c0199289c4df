import { Readable } from "node:stream";
import type { FastifyReply, FastifyRequest } from "fastify";
import type { AppError } from "@mimascota/shared/errors";
import type { TokenVerifier, VerifiedToken } from "@mimascota/shared/auth/token-verifier";
import type { ResponseCache } from "../cache/response-cache.ts";
import { problems, type GatewayErrorType } from "../errors.ts";
import type { GatewayMetrics } from "../metrics.ts";
import {
  applyRateLimitHeaders,
  type RateLimitDecision,
  type RateLimiter,
} from "../rate-limit/rate-limiter.ts";
import type { GatewayRoute } from "../routing/router.ts";
import { bufferedBody, ClientGoneError, isBodyTooLarge, limitedBody } from "./body-limit.ts";
import { upstreamRequestHeaders } from "./forward-headers.ts";
import { sendUpstreamResponse } from "./send-response.ts";
import type { UpstreamResponse } from "./upstream-exchange.ts";
import { CircuitOpenError, UnforwardableRequestError, UpstreamError, type Upstream } from "./upstream.ts";

export interface GatewayServiceDeps {
  upstreams: Map<string, Upstream>;
  verifier: TokenVerifier;
  limiter: RateLimiter;
  cache: ResponseCache;
  metrics: GatewayMetrics;
  /** Whether X-Forwarded-For may be passed on (only when trusted proxies are configured). */
  trustsProxies: boolean;
  /** Routes whose body limit is at most this have their body read in full before the upstream is called. */
  bufferBodiesUpTo: number;
}

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/** What a path no route matches is admitted as: public, the per-IP limit only, never forwarded. */
const UNROUTED: GatewayRoute = {
  template: "unmatched",
  upstream: "",
  public: true,
  policies: [],
  cache: false,
  bodyLimit: 0,
  roles: [],
  upstreamPath: (path) => path,
};

/**
 * The request pipeline (the route was matched by the metrics hook): token → one admission round trip (revocation and rate limits) → body limit
 * → cache or upstream. The order matters: a request with a bad token still spends its IP's quota (so token
 * guessing is rate limited), and a refused request never reaches an upstream or its breaker.
 */
export class GatewayService {
  readonly #deps: GatewayServiceDeps;

  constructor(deps: GatewayServiceDeps) {
    this.#deps = deps;
  }

  async handle(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    const route = request.gatewayRoute;
    const target = request.gatewayTarget;
    if (!route || target === null) {
      // Still admitted per IP: a path scan spends its quota, and the answer carries the limit headers.
      this.#admitted(request, reply, await this.#deps.limiter.admit(UNROUTED, request.ip, undefined));
      if (target === null) {
        throw this.#fail(request, "bad_request", problems.error("MALFORMED_REQUEST", { variant: "path" }));
      }
      throw this.#fail(request, "not_found", problems.error("NOT_FOUND"));
    }

    let token: VerifiedToken | undefined;
    let authFailure: "missing" | "invalid" | "keys_unavailable" | undefined;
    if (!route.public) {
      const bearer = bearerToken(request.headers.authorization);
      if (bearer === undefined) authFailure = "missing";
      else {
        const verification = await this.#deps.verifier.verify(bearer);
        if (verification.ok) token = verification.token;
        else authFailure = verification.reason;
      }
    }

    const decision = await this.#deps.limiter.admit(route, request.ip, token);
    if (this.#admitted(request, reply, decision) === "revoked") authFailure = "invalid";
    if (authFailure === "keys_unavailable") {
      throw this.#fail(
        request,
        "keys_unavailable",
        problems.error("SERVICE_UNAVAILABLE", {
          variant: "keys_unavailable",
          headers: { "retry-after": "5" },
        }),
      );
    }
    if (authFailure !== undefined) {
      reply.header(
        "www-authenticate",
        authFailure === "missing" ? 'Bearer realm="api"' : 'Bearer realm="api", error="invalid_token"',
      );
      throw this.#fail(request, "unauthorized", problems.error("UNAUTHORIZED"));
    }

    if (token && route.roles.length > 0 && !route.roles.some((role) => token.roles.includes(role))) {
      throw this.#fail(request, "forbidden_role", problems.error("FORBIDDEN_ROLE"));
    }

    const declared = request.headers["content-length"];
    if (declared !== undefined && Number(declared) > route.bodyLimit) {
      throw this.#fail(request, "payload_too_large", problems.error("PAYLOAD_TOO_LARGE"));
    }
    const upstream = this.#deps.upstreams.get(route.upstream)!;
    const fetch = (): Promise<UpstreamResponse> =>
      this.#call(request, reply, upstream, route, route.upstreamPath(target), token);
    try {
      if (route.cache && (request.method === "GET" || request.method === "HEAD")) {
        return await this.#deps.cache.serve(request, reply, route, token?.userId, fetch);
      }
      const response = await fetch();
      if (response.statusCode >= 500)
        this.#deps.metrics.countError(request.method, route.template, "upstream_5xx");
      if (
        token &&
        !SAFE_METHODS.has(request.method) &&
        response.statusCode >= 200 &&
        response.statusCode < 300
      ) {
        await this.#deps.cache.purgeUser(token.userId);
      }
      return sendUpstreamResponse(reply, response);
    } catch (error) {
      throw this.#upstreamFailure(request, error);
    }
  }

  /**
   * The admission's answer (rate limits and revocation, one round trip): sets the limit headers, throws 429
   * when limited. Synchronous, so the hot path awaits the store only.
   */
  #admitted(
    request: FastifyRequest,
    reply: FastifyReply,
    decision: RateLimitDecision,
  ): "admitted" | "revoked" {
    const retryAfter = applyRateLimitHeaders(reply, decision);
    if (decision.outcome !== "limited") return decision.outcome;
    throw this.#fail(
      request,
      "rate_limited",
      problems.error("RATE_LIMITED", {
        headers: { "retry-after": String(retryAfter) },
      }),
    );
  }

  async #call(
    request: FastifyRequest,
    reply: FastifyReply,
    upstream: Upstream,
    route: GatewayRoute,
    path: string,
    token: VerifiedToken | undefined,
  ): Promise<UpstreamResponse> {
    const headers = upstreamRequestHeaders(request.headers, {
      requestId: request.id,
      userId: token?.userId,
      peerIp: request.socket.remoteAddress ?? request.ip,
      forwardedFor: this.#deps.trustsProxies ? trustedChain(request) : undefined,
      proto: request.protocol,
      host: request.headers.host,
    });
    const hasBody =
      (request.headers["content-length"] !== undefined ||
        request.headers["transfer-encoding"] !== undefined) &&
      !SAFE_METHODS.has(request.method);
    const raw = request.raw;
    const target = { method: request.method, path, headers };
    if (hasBody && route.bodyLimit <= this.#deps.bufferBodiesUpTo) {
      // Read in full first: a client sending slowly holds this socket only, not an upstream connection.
      return upstream.call({ ...target, body: await bufferedBody(raw, route.bodyLimit) });
    }
    const body = hasBody ? Readable.from(limitedBody(raw, route.bodyLimit)) : undefined;
    // limitedBody never lets undici destroy `raw`, so an aborted `raw` or a closed client socket means the
    // client left; an incomplete upload with the client still there is the upstream's doing (see `call`).
    const call = upstream.call({ ...target, body }, () =>
      body === undefined || raw.complete
        ? "complete"
        : raw.readableAborted || raw.socket.destroyed
          ? "client_gone"
          : "unfinished",
    );
    if (body === undefined) return call;
    return call.finally(() => {
      // The upstream answered (or failed) before taking the whole body. Node will not read the next request on
      // this connection until the rest is consumed, so discard it and close the connection after the reply.
      if (!raw.complete && !raw.destroyed) {
        reply.header("connection", "close");
        raw.resume();
      }
    });
  }

  #upstreamFailure(request: FastifyRequest, error: unknown): unknown {
    if (error instanceof CircuitOpenError) {
      return this.#fail(
        request,
        "circuit_open",
        problems.error("SERVICE_UNAVAILABLE", {
          headers: { "retry-after": String(error.retryAfterSeconds) },
        }),
      );
    }
    if (error instanceof UpstreamError) {
      return error.type === "timeout"
        ? this.#fail(request, "timeout", problems.error("GATEWAY_TIMEOUT"))
        : this.#fail(request, "connection", problems.error("BAD_GATEWAY"));
    }
    if (isBodyTooLarge(error)) {
      return this.#fail(request, "payload_too_large", problems.error("PAYLOAD_TOO_LARGE"));
    }
    if (error instanceof ClientGoneError) {
      // Nobody is left to read this answer (a request timeout has already answered 408); counted only.
      return this.#fail(request, "client_gone", problems.error("REQUEST_TIMEOUT"));
    }
    if (error instanceof UnforwardableRequestError) {
      return this.#fail(
        request,
        "bad_request",
        problems.error("VALIDATION_ERROR", { variant: "unforwardable" }),
      );
    }
    return error;
  }

  #fail(request: FastifyRequest, type: GatewayErrorType, error: AppError): AppError {
    this.#deps.metrics.countError(request.method, request.gatewayRoute?.template ?? "unmatched", type);
    return error;
  }
}

function bearerToken(header: string | undefined): string | undefined {
  if (header === undefined || header.length < 8) return undefined;
  if (header.slice(0, 7).toLowerCase() !== "bearer ") return undefined;
  const token = header.slice(7).trim();
  return token.length > 0 ? token : undefined;
}

/** X-Forwarded-For entries added by trusted proxies, client first (fastify's `ips` lists them nearest first). */
function trustedChain(request: FastifyRequest): string | undefined {
  const ips = request.ips;
  if (!ips || ips.length < 2) return undefined;
  return ips.slice(1).reverse().join(", ");
}

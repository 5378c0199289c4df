import type { FastifyInstance } from "fastify";

const ALLOW_METHODS = "GET, HEAD, POST, PUT, PATCH, DELETE";
const ALLOW_HEADERS =
  "Authorization, Content-Type, Accept-Language, X-Request-Id, traceparent, tracestate, Idempotency-Key";
const EXPOSE_HEADERS =
  "X-Request-Id, RateLimit, RateLimit-Policy, X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset, Retry-After, X-Cache, Age";

/**
 * CORS with an exact allow-list and credentials: an allowed origin is echoed (never `*`, which browsers
 * refuse with credentials anyway), an unknown one gets no CORS headers at all (never reflected). Every
 * response varies by Origin, so no cache in between serves one origin's answer to another.
 */
export function registerCors(app: FastifyInstance, origins: readonly string[]): void {
  const allowed = new Set(origins);
  app.addHook("onRequest", (request, reply, done) => {
    const origin = request.headers.origin;
    if (origin === undefined) return done();
    const ok = allowed.has(origin);
    if (ok) {
      reply.header("access-control-allow-origin", origin);
      reply.header("access-control-allow-credentials", "true");
    }
    if (request.method === "OPTIONS" && request.headers["access-control-request-method"] !== undefined) {
      if (ok) {
        reply.header("access-control-allow-methods", ALLOW_METHODS);
        reply.header("access-control-allow-headers", ALLOW_HEADERS);
        reply.header("access-control-max-age", "600");
      }
      reply.header("vary", "Origin, Access-Control-Request-Method, Access-Control-Request-Headers");
      void reply.code(204).send();
      return;
    }
    if (ok) reply.header("access-control-expose-headers", EXPOSE_HEADERS);
    done();
  });

  app.addHook("onSend", (_request, reply, payload, done) => {
    const vary = reply.getHeader("vary");
    if (vary === undefined) reply.header("vary", "Origin");
    else if (!/(^|,)\s*origin\s*(,|$)/i.test(String(vary))) reply.header("vary", `${String(vary)}, Origin`);
    done(null, payload);
  });
}

import type { FastifyInstance } from "fastify";
import type { GatewayMetrics } from "./metrics.ts";
import { normalizeTarget } from "./routing/normalize-path.ts";
import type { GatewayRoute, Router } from "./routing/router.ts";

declare module "fastify" {
  interface FastifyRequest {
    /** The matched route; null for the gateway's own endpoints and for paths no route matches. */
    gatewayRoute: GatewayRoute | null;
    /**
     * The normalised request target (path and query) that decided the route and is forwarded; null for the
     * gateway's own endpoints, or when the path cannot be normalised (then the request is refused with 400).
     */
    gatewayTarget: string | null;
    metricsSeries: ReturnType<GatewayMetrics["series"]> | null;
    metricsPath: string;
    startedAt: number;
  }
}

const PROXY_URL = "/*";

/**
 * The one place that decides a request's route, for admission, policies, metrics and forwarding alike: on the
 * path as the upstream will read it (`normalizeTarget`), never on the raw spelling, so an encoded or
 * dotted spelling of a path gets that path's route and limits. Then the request metrics, whose `path` label
 * is the route template (or the gateway endpoint's own path, or `unmatched`), never the raw URL.
 * Callback-style hooks: they run on every request and avoid a promise each.
 */
export function registerRequestHooks(app: FastifyInstance, router: Router, metrics: GatewayMetrics): void {
  app.decorateRequest("gatewayRoute", null);
  app.decorateRequest("gatewayTarget", null);
  app.decorateRequest("metricsSeries", null);
  app.decorateRequest("metricsPath", "");
  app.decorateRequest("startedAt", 0);

  app.addHook("onRequest", (request, _reply, done) => {
    request.startedAt = performance.now();
    if (request.routeOptions.url === PROXY_URL) {
      const target = normalizeTarget(request.url);
      request.gatewayTarget = target ? target.path + target.query : null;
      request.gatewayRoute = target ? (router.match(target.path) ?? null) : null;
    }
    done();
  });

  app.addHook("onRequest", (request, _reply, done) => {
    const path =
      request.routeOptions.url === PROXY_URL
        ? (request.gatewayRoute?.template ?? "unmatched")
        : (request.routeOptions.url ?? "unmatched");
    const series = metrics.series(request.method, path);
    series.inProgress.inc();
    request.metricsSeries = series;
    request.metricsPath = path;
    done();
  });

  app.addHook("onResponse", (request, reply, done) => {
    const series = request.metricsSeries;
    if (series) {
      series.inProgress.dec();
      series.duration.observe((performance.now() - request.startedAt) / 1000);
      metrics.countRequest(series, request.method, request.metricsPath, reply.statusCode);
    }
    done();
  });
}

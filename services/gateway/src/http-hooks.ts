import type { FastifyInstance } from "fastify";
import type { GatewayMetrics } from "./metrics.ts";
import type { GatewayRoute, Router } from "./routing/router.ts";

declare module "fastify" {
  interface FastifyRequest {
    /** The matched route; null for the gateway's own endpoints and for paths no route matches. */
    gatewayRoute: GatewayRoute | null;
    metricsSeries: ReturnType<GatewayMetrics["series"]> | null;
    metricsPath: string;
    startedAt: number;
  }
}

const PROXY_URL = "/*";

/**
 * Matches the route once per request and keeps the request metrics: the `path` label is the route template
 * (or the gateway endpoint's own path, or `unmatched`), never the raw URL. Callback-style hooks: they run on
 * every request and avoid a promise each.
 */
export function registerRequestHooks(app: FastifyInstance, router: Router, metrics: GatewayMetrics): void {
  app.decorateRequest("gatewayRoute", null);
  app.decorateRequest("metricsSeries", null);
  app.decorateRequest("metricsPath", "");
  app.decorateRequest("startedAt", 0);

  app.addHook("onRequest", (request, _reply, done) => {
    request.startedAt = performance.now();
    let path: string;
    if (request.routeOptions.url === PROXY_URL) {
      const query = request.url.indexOf("?");
      const route = router.match(query === -1 ? request.url : request.url.slice(0, query)) ?? null;
      request.gatewayRoute = route;
      path = route ? route.template : "unmatched";
    } else {
      path = request.routeOptions.url ?? "unmatched";
    }
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

import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import type { GatewayErrorType } from "./errors.ts";

export type BreakerStateValue = 0 | 1 | 2;

interface RequestSeries {
  total: Map<number, Counter.Internal>;
  duration: Histogram.Internal<"method" | "path">;
  inProgress: Gauge.Internal<"method" | "path">;
}

/**
 * The contract's twelve gateway metrics plus process metrics, on one registry per app (never prom-client's
 * global one). Every label value is bounded: `path` is a route template, `service` an upstream name, the rest
 * fixed enums. Child series are cached because label hashing is the costly part of an observation.
 */
export class GatewayMetrics {
  readonly registry = new Registry();
  readonly requests: Counter<"method" | "path" | "status_code">;
  readonly requestDuration: Histogram<"method" | "path">;
  readonly requestsInProgress: Gauge<"method" | "path">;
  readonly errors: Counter<"method" | "path" | "error_type">;
  readonly backendRequests: Counter<"service" | "status_code">;
  readonly backendDuration: Histogram<"service">;
  readonly backendErrors: Counter<"service" | "error_type">;
  readonly breakerState: Gauge<"service">;
  readonly breakerFailures: Counter<"service">;
  readonly cacheHits: Counter<"path">;
  readonly cacheMisses: Counter<"path">;
  readonly rateLimitRejections: Counter<"policy">;
  /** Not in the contract's list: makes the Redis fallback visible (1 up, 0 using per-instance fallbacks). */
  readonly redisUp: Gauge;
  readonly degraded: Counter<"decision">;
  readonly #series = new Map<string, RequestSeries>();

  constructor(options: { defaultMetrics?: boolean } = {}) {
    const registers = [this.registry];
    if (options.defaultMetrics ?? true) {
      collectDefaultMetrics({ register: this.registry });
      // Gauges named *_total fail `promtool check metrics`; the per-type gauges without the suffix stay.
      for (const name of [
        "nodejs_active_handles_total",
        "nodejs_active_requests_total",
        "nodejs_active_resources_total",
      ]) {
        this.registry.removeSingleMetric(name);
      }
    }
    const seconds = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
    this.requests = new Counter({
      name: "gateway_http_requests_total",
      help: "Requests answered by the gateway",
      labelNames: ["method", "path", "status_code"],
      registers,
    });
    this.requestDuration = new Histogram({
      name: "gateway_http_request_duration_seconds",
      help: "Time from request to response, gateway included",
      labelNames: ["method", "path"],
      buckets: seconds,
      registers,
    });
    this.requestsInProgress = new Gauge({
      name: "gateway_http_requests_in_progress",
      help: "Requests being handled",
      labelNames: ["method", "path"],
      registers,
    });
    this.errors = new Counter({
      name: "gateway_http_errors_total",
      help: "Requests the gateway answered with an error of its own, by type",
      labelNames: ["method", "path", "error_type"],
      registers,
    });
    this.backendRequests = new Counter({
      name: "gateway_backend_requests_total",
      help: "Responses received from upstream services",
      labelNames: ["service", "status_code"],
      registers,
    });
    this.backendDuration = new Histogram({
      name: "gateway_backend_request_duration_seconds",
      help: "Time until an upstream's response headers arrived",
      labelNames: ["service"],
      buckets: seconds,
      registers,
    });
    this.backendErrors = new Counter({
      name: "gateway_backend_errors_total",
      help: "Upstream calls that failed (connection, timeout, 5xx, circuit open)",
      labelNames: ["service", "error_type"],
      registers,
    });
    this.breakerState = new Gauge({
      name: "gateway_circuit_breaker_state",
      help: "Circuit breaker state per upstream: 0 closed, 1 open, 2 half-open",
      labelNames: ["service"],
      registers,
    });
    this.breakerFailures = new Counter({
      name: "gateway_circuit_breaker_failures_total",
      help: "Failures recorded by the circuit breaker per upstream",
      labelNames: ["service"],
      registers,
    });
    this.cacheHits = new Counter({
      name: "gateway_cache_hits_total",
      help: "Responses served from the response cache",
      labelNames: ["path"],
      registers,
    });
    this.cacheMisses = new Counter({
      name: "gateway_cache_misses_total",
      help: "Cacheable requests not found in the response cache",
      labelNames: ["path"],
      registers,
    });
    this.rateLimitRejections = new Counter({
      name: "gateway_rate_limit_rejections_total",
      help: "Requests refused with 429, by the policy that refused them",
      labelNames: ["policy"],
      registers,
    });
    this.redisUp = new Gauge({
      name: "gateway_redis_up",
      help: "1 when Redis answers; 0 while rate limits use the per-instance fallback and the cache is bypassed",
      registers,
    });
    this.degraded = new Counter({
      name: "gateway_degraded_decisions_total",
      help: "Decisions taken without Redis: rate_limit (in-memory fallback), revocation (not checked), cache (bypassed)",
      labelNames: ["decision"],
      registers,
    });
  }

  /** The per-route series for one request; created once per method and template. */
  series(method: string, path: string): RequestSeries {
    const key = `${method} ${path}`;
    let series = this.#series.get(key);
    if (!series) {
      series = {
        total: new Map(),
        duration: this.requestDuration.labels(method, path),
        inProgress: this.requestsInProgress.labels(method, path),
      };
      this.#series.set(key, series);
    }
    return series;
  }

  countRequest(series: RequestSeries, method: string, path: string, status: number): void {
    let counter = series.total.get(status);
    if (!counter) {
      counter = this.requests.labels(method, path, String(status));
      series.total.set(status, counter);
    }
    counter.inc();
  }

  countError(method: string, path: string, type: GatewayErrorType): void {
    this.errors.labels(method, path, type).inc();
  }

  setBreakerState(service: string, state: BreakerStateValue): void {
    this.breakerState.labels(service).set(state);
  }
}

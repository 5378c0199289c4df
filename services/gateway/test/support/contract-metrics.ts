/** The gateway metrics CONTRACT.md fixes (Gateway → Metrics), by name; tests check the service against it. */
export const CONTRACT_GATEWAY_METRICS = [
  "gateway_http_requests_total",
  "gateway_http_request_duration_seconds",
  "gateway_http_requests_in_progress",
  "gateway_http_errors_total",
  "gateway_backend_requests_total",
  "gateway_backend_request_duration_seconds",
  "gateway_backend_errors_total",
  "gateway_circuit_breaker_state",
  "gateway_circuit_breaker_failures_total",
  "gateway_cache_hits_total",
  "gateway_cache_misses_total",
  "gateway_rate_limit_rejections_total",
] as const;

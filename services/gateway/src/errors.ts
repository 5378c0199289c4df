import { defineProblems } from "@mimascota/shared/errors";

/** Every code the gateway answers with itself; upstream problems pass through unchanged. */
export const problems = defineProblems({
  BAD_GATEWAY: { status: 502, title: "Bad gateway" },
  GATEWAY_TIMEOUT: { status: 504, title: "Gateway timeout" },
});

/** Bounded `error_type` label values for the error metrics. */
export type GatewayErrorType =
  | "bad_request"
  | "unauthorized"
  | "rate_limited"
  | "not_found"
  | "payload_too_large"
  | "client_gone"
  | "circuit_open"
  | "connection"
  | "timeout"
  | "upstream_5xx"
  | "keys_unavailable"
  | "internal";

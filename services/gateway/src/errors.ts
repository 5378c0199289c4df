import { defineProblems, type ProblemText } from "@mimascota/shared/errors";

/** Every code the gateway answers with itself; upstream problems pass through unchanged. */
const gatewayProblemSpecs = {
  BAD_GATEWAY: { status: 502 },
  GATEWAY_TIMEOUT: { status: 504 },
  /** The route requires a role the token does not carry (the route table's `roles`). */
  FORBIDDEN_ROLE: { status: 403 },
} as const;

type GatewayProblemCode = keyof typeof gatewayProblemSpecs;

const es: Record<GatewayProblemCode, ProblemText> = {
  BAD_GATEWAY: { title: "Puerta de enlace incorrecta", detail: "No se pudo contactar con el servicio." },
  GATEWAY_TIMEOUT: { title: "Tiempo de espera agotado", detail: "El servicio no respondió a tiempo." },
  FORBIDDEN_ROLE: { title: "Rol no autorizado", detail: "Tu cuenta no tiene el rol necesario para esto." },
};

const en: Record<GatewayProblemCode, ProblemText> = {
  BAD_GATEWAY: { title: "Bad gateway", detail: "The service could not be reached." },
  GATEWAY_TIMEOUT: { title: "Gateway timeout", detail: "The service did not answer in time." },
  FORBIDDEN_ROLE: { title: "Role not allowed", detail: "Your account does not have the role this needs." },
};

export const problems = defineProblems(gatewayProblemSpecs, { es, en });
/** Bounded `error_type` label values for the error metrics. */
export type GatewayErrorType =
  | "bad_request"
  | "unauthorized"
  | "forbidden_role"
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

import { z } from "zod";
import {
  PROBLEM_MEDIA_TYPE,
  type OpenApiOperation,
  type OpenApiResponse,
} from "@mimascota/shared/openapi/document";
import { problemResponses } from "@mimascota/shared/openapi/problem-responses";
import type { GatewayRoute } from "../routing/router.ts";

const ref = (name: string) => ({ $ref: `#/components/headers/${name}` });

/** Headers the gateway adds to the responses it proxies (IETF RateLimit draft, and the response cache's). */
export const gatewayHeaders = {
  RateLimit: {
    description:
      'The most constrained limit left for this caller, e.g. `"ip";r=99;t=60` (IETF draft structured field).',
    schema: { type: "string" },
  },
  "RateLimit-Policy": {
    description: 'Every policy applied to the request, e.g. `"ip";q=100;w=60, "login";q=10;w=60`.',
    schema: { type: "string" },
  },
  "X-Cache": {
    description: "Whether the gateway's response cache answered: `HIT`, `MISS` or `BYPASS`.",
    schema: { type: "string", enum: ["HIT", "MISS", "BYPASS"] },
  },
  Age: {
    description: "Seconds the cached response has been stored (with `X-Cache: HIT`).",
    schema: { type: "integer", minimum: 0 },
  },
  Allow: {
    description: "The methods the path takes.",
    schema: { type: "string" },
  },
};

/** What the gateway itself answers on a proxied route, by status, beside whatever the upstream answers. */
const GATEWAY_PROBLEMS: Record<number, { codes: string[]; description: string }> = {
  401: { codes: ["UNAUTHORIZED"], description: "No valid access token (checked by the gateway)" },
  405: { codes: ["METHOD_NOT_ALLOWED"], description: "Method Not Allowed (see `Allow`)" },
  413: { codes: ["PAYLOAD_TOO_LARGE"], description: "The body is over the route's limit" },
  429: { codes: ["RATE_LIMITED"], description: "A rate limit is exhausted (see `Retry-After`)" },
  502: { codes: ["BAD_GATEWAY"], description: "The service could not be reached" },
  503: {
    codes: ["SERVICE_UNAVAILABLE"],
    description: "The service is unavailable (circuit breaker open); retry after `Retry-After`",
  },
  504: { codes: ["GATEWAY_TIMEOUT"], description: "The service did not answer in time" },
};

/**
 * Adds to an upstream's operation what the gateway in front of it answers and sends: its own problems (the
 * codes merged into the upstream's for the same status), the RateLimit headers on every response, `X-Cache`
 * and `Age` where the route is cached, and a bearer requirement where the route is not public.
 */
export function withGatewayResponses(operation: OpenApiOperation, route: GatewayRoute): OpenApiOperation {
  const statuses = Object.keys(GATEWAY_PROBLEMS)
    .map(Number)
    .filter((status) => (status === 401 ? !route.public : true))
    .filter((status) => (status === 413 ? operation.requestBody !== undefined : true));
  for (const status of statuses) addProblem(operation, status, GATEWAY_PROBLEMS[status]!);
  for (const [status, response] of Object.entries(operation.responses)) {
    response.headers = {
      ...response.headers,
      RateLimit: ref("RateLimit"),
      "RateLimit-Policy": ref("RateLimit-Policy"),
      ...(route.cache && Number(status) === 200 ? { "X-Cache": ref("X-Cache"), Age: ref("Age") } : {}),
      ...(Number(status) === 405 ? { Allow: ref("Allow") } : {}),
    };
  }
  if (!route.public && !operation.security?.some((s) => "bearer" in s)) operation.security = [{ bearer: [] }];
  return operation;
}

function addProblem(
  operation: OpenApiOperation,
  status: number,
  own: { codes: string[]; description: string },
): void {
  const existing = operation.responses[String(status)];
  const content = existing?.content?.[PROBLEM_MEDIA_TYPE];
  const codes = (content?.schema as { properties?: { code?: { enum?: string[] } } } | undefined)?.properties
    ?.code;
  if (existing && codes?.enum) {
    codes.enum = [...new Set([...codes.enum, ...own.codes])];
    existing.description = `${existing.description}; or: ${own.description}`;
    if (status === 429 || status === 503)
      existing.headers = { ...existing.headers, "Retry-After": ref("Retry-After") };
    return;
  }
  operation.responses[String(status)] = problemResponse(status, own);
}

function problemResponse(status: number, own: { codes: string[]; description: string }): OpenApiResponse {
  const schema = problemResponses({ [status]: own.codes }, { withBody: false })[status]!;
  return {
    description: own.description,
    headers: {
      "X-Request-Id": ref("X-Request-Id"),
      ...(status === 429 || status === 503 ? { "Retry-After": ref("Retry-After") } : {}),
    },
    content: {
      [PROBLEM_MEDIA_TYPE]: {
        schema: z.toJSONSchema(schema, { target: "openapi-3.0", io: "output" }),
      },
    },
  };
}

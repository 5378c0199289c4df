import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { checkReadiness } from "@mimascota/shared/readiness";
import { z } from "zod";
import { problems } from "../errors.ts";
import type { AuthMetrics } from "../metrics.ts";
import type { SigningKeyService } from "../services/signing-key.service.ts";
import { problemResponses } from "./problem-responses.ts";

export interface OpsRouteDeps {
  /** Dependencies without which nothing works (the database): one down makes /ready answer 503. Each throws when down. */
  checks: Record<string, () => Promise<void>>;
  /**
   * Dependencies the service is built to outlive (Kafka: the outbox holds events; the key-value store:
   * revocations are best effort, the database stays the source of truth). One down is reported as `degraded`
   * with 200, so an orchestrator does not take every replica out of service during, say, a broker outage.
   */
  degradable?: Record<string, () => Promise<void>>;
  metrics: AuthMetrics;
  signingKeys: SigningKeyService;
}

/** A dependency that does not answer within this long counts as down: /ready must answer quickly itself. */
const CHECK_TIMEOUT_MS = 2_000;

const jwk = z.object({
  kty: z.string(),
  crv: z.string(),
  x: z.string(),
  kid: z.string(),
  alg: z.string(),
  use: z.string(),
});

/** Liveness, readiness, Prometheus metrics and the public signing keys. */
export function registerOpsRoutes(app: FastifyInstance, deps: OpsRouteDeps): void {
  const typed = app.withTypeProvider<ZodTypeProvider>();

  typed.get(
    "/health",
    {
      schema: {
        tags: ["ops"],
        summary: "Liveness: the process answers",
        response: { 200: z.object({ status: z.literal("ok") }) },
      },
    },
    async () => ({ status: "ok" as const }),
  );

  typed.get(
    "/ready",
    {
      schema: {
        tags: ["ops"],
        summary:
          "Readiness: 503 (naming them in `errors`) when a required dependency is down; `degraded` when only a degradable one is",
        response: {
          200: z.object({
            status: z.enum(["ready", "degraded"]),
            checks: z.record(z.string(), z.enum(["ok", "unavailable"])),
          }),
          ...problemResponses({}, { withBody: false }),
        },
      },
    },
    async () => {
      const readiness = await checkReadiness({
        required: deps.checks,
        degradable: deps.degradable ?? {},
        timeoutMs: CHECK_TIMEOUT_MS,
      });
      if (readiness.status === "unavailable") {
        throw problems.error("SERVICE_UNAVAILABLE", {
          variant: "not_ready",
          params: { dependencies: readiness.failed.join(", ") },
          errors: readiness.failed.map((path) => ({ path, message: "unavailable" })),
        });
      }
      return { status: readiness.status, checks: readiness.checks };
    },
  );

  typed.get(
    "/metrics",
    { schema: { tags: ["ops"], summary: "Prometheus metrics" } },
    async (_request, reply) => {
      const body = await deps.metrics.registry.metrics();
      return reply.type(deps.metrics.registry.contentType).send(body);
    },
  );

  typed.get(
    "/.well-known/jwks.json",
    {
      schema: {
        tags: ["ops"],
        summary: "Public keys that verify access tokens (retired keys stay until their tokens have expired)",
        response: { 200: z.object({ keys: z.array(jwk) }), ...problemResponses({}, { withBody: false }) },
      },
    },
    async (_request, reply) => {
      const jwks = await deps.signingKeys.jwks();
      reply.header("cache-control", "public, max-age=300");
      return jwks as { keys: z.infer<typeof jwk>[] };
    },
  );
}

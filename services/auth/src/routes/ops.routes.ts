import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { registerOpsRoutes } from "@mimascota/shared/ops-routes";
import { z } from "zod";
import type { AuthMetrics } from "../metrics.ts";
import type { SigningKeyService } from "../services/signing-key.service.ts";
import { problemResponses } from "@mimascota/shared/openapi/problem-responses";

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

const jwk = z.object({
  kty: z.string(),
  crv: z.string(),
  x: z.string(),
  kid: z.string(),
  alg: z.string(),
  use: z.string(),
});

/** Liveness, readiness and Prometheus metrics (the shared three), and the public signing keys. */
export function registerAuthOpsRoutes(app: FastifyInstance, deps: OpsRouteDeps): void {
  registerOpsRoutes(app, {
    required: deps.checks,
    degradable: deps.degradable ?? {},
    registry: deps.metrics.registry,
  });
  const typed = app.withTypeProvider<ZodTypeProvider>();

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

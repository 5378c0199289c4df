import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import type { Registry } from "prom-client";
import { z } from "zod";
import { commonError } from "./errors.ts";
import { problemResponses } from "./openapi/problem-responses.ts";
import { checkReadiness, type ReadinessCheck } from "./readiness.ts";

export interface OpsRoutesOptions {
  /** Dependencies without which nothing works (the database): one down makes /ready answer 503. */
  required: Record<string, ReadinessCheck>;
  /**
   * Dependencies the service is built to outlive (Kafka: the outbox holds events; the key-value store:
   * revocations are best effort). One down is reported as `degraded` with 200, so an orchestrator does not
   * take every replica out of service during, say, a broker outage.
   */
  degradable?: Record<string, ReadinessCheck>;
  /** The service's own Prometheus registry, served at /metrics. */
  registry: Registry;
  /** A dependency that does not answer within this long counts as down: /ready must answer quickly itself. */
  checkTimeoutMs?: number;
}

/** Liveness, readiness and Prometheus metrics: the same three endpoints in every service. */
export function registerOpsRoutes(app: FastifyInstance, options: OpsRoutesOptions): void {
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
        required: options.required,
        degradable: options.degradable ?? {},
        timeoutMs: options.checkTimeoutMs ?? 2_000,
      });
      if (readiness.status === "unavailable") {
        throw commonError("SERVICE_UNAVAILABLE", {
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
      const body = await options.registry.metrics();
      return reply.type(options.registry.contentType).send(body);
    },
  );
}

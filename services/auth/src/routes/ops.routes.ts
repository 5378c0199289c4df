import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import { problems } from "../errors.ts";
import type { AuthMetrics } from "../metrics.ts";
import type { SigningKeyService } from "../services/signing-key.service.ts";
import { problemResponses } from "./problem-responses.ts";

export interface OpsRouteDeps {
  /** Readiness checks by dependency name (database, kv, and whatever the composition adds); each throws when down. */
  checks: Record<string, () => Promise<void>>;
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
        summary: "Readiness: every dependency answers (503 lists the ones that do not in `errors`)",
        response: {
          200: z.object({ status: z.literal("ready"), checks: z.record(z.string(), z.literal("ok")) }),
          ...problemResponses({}, { withBody: false }),
        },
      },
    },
    async () => {
      const names = Object.keys(deps.checks);
      const results = await Promise.allSettled(names.map((name) => withTimeout(deps.checks[name]!())));
      const failed = names.filter((_, i) => results[i]!.status === "rejected");
      if (failed.length > 0) {
        throw problems.error("SERVICE_UNAVAILABLE", `Not ready: ${failed.join(", ")} unavailable.`, {
          errors: failed.map((path) => ({ path, message: "unavailable" })),
        });
      }
      return { status: "ready" as const, checks: Object.fromEntries(names.map((n) => [n, "ok" as const])) };
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

async function withTimeout(check: Promise<void>): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error("timed out")), CHECK_TIMEOUT_MS);
  });
  try {
    await Promise.race([check, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

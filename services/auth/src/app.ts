import cookie from "@fastify/cookie";
import swagger from "@fastify/swagger";
import swaggerUi from "@fastify/swagger-ui";
import type { FastifyInstance } from "fastify";
import {
  jsonSchemaTransform,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from "fastify-type-provider-zod";
import type { Logger } from "pino";
import type { Clock } from "@mimascota/shared/clock";
import type { DatabaseHandle } from "@mimascota/shared/db/database";
import { createHttpServer } from "@mimascota/shared/http";
import type { KeyValueStore } from "@mimascota/shared/kv/key-value-store";
import type { AuthConfig } from "./config.ts";

/** Everything the auth service needs from the outside world; tests pass fakes or real servers here. */
export interface AuthDeps {
  config: AuthConfig;
  logger: Logger;
  clock: Clock;
  database: DatabaseHandle;
  kv: KeyValueStore;
  /** Wakes the mail worker and outbox relay after a commit, so delivery does not wait for the next poll. */
  wake?: { mail(): void; events(): void };
  /** Extra readiness checks (e.g. the event publisher), by dependency name. */
  readiness?: Record<string, () => Promise<void>>;
  /** Gauges read at scrape time: outbox lag and mail queue depth. */
  queueStats?: {
    outbox(): Promise<{ pending: number; oldestPendingAgeSeconds: number }>;
    mail(): Promise<{ pending: number; dead: number; oldestPendingAgeSeconds: number }>;
  };
}

export type AuthApp = FastifyInstance & { withTypeProvider(): FastifyInstance };

/** The composition root of the auth service: repositories, services and routes, built from `deps`. */
export async function buildApp(deps: AuthDeps): Promise<FastifyInstance> {
  const app = createHttpServer({
    logger: deps.logger,
    bodyLimit: deps.config.BODY_LIMIT_BYTES,
    trustProxy: deps.config.TRUST_PROXY.length > 0 ? deps.config.TRUST_PROXY : false,
  });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  await app.register(cookie);
  await app.register(swagger, {
    openapi: {
      info: { title: "Mi Mascota auth service", version: "1.0.0" },
      components: {
        securitySchemes: { bearer: { type: "http", scheme: "bearer", bearerFormat: "JWT" } },
      },
    },
    transform: jsonSchemaTransform,
  });
  await app.register(swaggerUi, { routePrefix: "/docs" });
  const typed = app.withTypeProvider<ZodTypeProvider>();
  typed.get("/openapi.json", { schema: { hide: true } }, async () => app.swagger());

  // --- composition: repositories → services → routes ---

  return app;
}

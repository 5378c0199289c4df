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
import { PasswordHasher } from "./crypto/password-hasher.ts";
import { AccountMailer } from "./mail/account-mailer.ts";
import { OneTimeTokenRepository } from "./repositories/one-time-token.repository.ts";
import { UserRepository } from "./repositories/user.repository.ts";
import { registerRegistrationRoutes } from "./routes/registration.routes.ts";
import { EmailVerificationService } from "./services/email-verification.service.ts";
import { PasswordPolicy } from "./services/password-policy.ts";
import { RegistrationService } from "./services/registration.service.ts";

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
  const { db } = deps.database;
  const wake = deps.wake;
  const users = new UserRepository({ db });
  const oneTimeTokens = new OneTimeTokenRepository({ db });
  const hasher = new PasswordHasher({
    memoryCost: deps.config.ARGON2_MEMORY_KIB,
    timeCost: deps.config.ARGON2_TIME_COST,
    parallelism: deps.config.ARGON2_PARALLELISM,
  });
  const passwordPolicy = new PasswordPolicy();
  const mailer = new AccountMailer({ publicAppUrl: deps.config.PUBLIC_APP_URL });
  const registration = new RegistrationService({
    db,
    clock: deps.clock,
    config: deps.config,
    users,
    tokens: oneTimeTokens,
    mailer,
    policy: passwordPolicy,
    hasher,
    wake,
  });
  const verification = new EmailVerificationService({
    db,
    clock: deps.clock,
    config: deps.config,
    users,
    tokens: oneTimeTokens,
    mailer,
    wake,
  });
  registerRegistrationRoutes(app, { registration, verification });

  return app;
}

import cookie from "@fastify/cookie";
import swagger from "@fastify/swagger";
import swaggerUi from "@fastify/swagger-ui";
import type { FastifyInstance } from "fastify";
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from "fastify-type-provider-zod";
import type { Logger } from "pino";
import type { Clock } from "@mimascota/shared/clock";
import type { DatabaseHandle } from "@mimascota/shared/db/database";
import { createHttpServer } from "@mimascota/shared/http";
import { swaggerOptions } from "@mimascota/shared/openapi/swagger-options";
import type { KeyValueStore } from "@mimascota/shared/kv/key-value-store";
import type { AuthConfig } from "./config.ts";
import { PasswordHasher } from "./crypto/password-hasher.ts";
import { secretBoxFromConfig } from "./crypto/secret-box-from-config.ts";
import { databaseOutageAs503 } from "@mimascota/shared/db/database-errors";
import { AuthMetrics, type MetricSources } from "./metrics.ts";
import { LoginThrottleRepository } from "./repositories/login-throttle.repository.ts";
import { LoginRepository } from "./repositories/login.repository.ts";
import { RefreshTokenRepository } from "./repositories/refresh-token.repository.ts";
import { SessionRepository } from "./repositories/session.repository.ts";
import { SigningKeyRepository } from "./repositories/signing-key.repository.ts";
import { TwoFactorChallengeRepository } from "./repositories/two-factor-challenge.repository.ts";
import { registerAuthOpsRoutes } from "./routes/ops.routes.ts";
import { openapiSchemas } from "./routes/schemas.ts";
import { registerSessionRoutes } from "./routes/session.routes.ts";
import { AccessTokenService } from "./services/access-token.service.ts";
import { LoginService } from "./services/login.service.ts";
import { SessionService } from "./services/session.service.ts";
import { SigningKeyService } from "./services/signing-key.service.ts";
import { AccountMailer } from "./mail/account-mailer.ts";
import { OneTimeTokenRepository } from "./repositories/one-time-token.repository.ts";
import { UserRepository } from "./repositories/user.repository.ts";
import { authenticate } from "./routes/authenticate.ts";
import { registerAccountPageRoutes } from "./routes/account-pages.routes.ts";
import { registerPasswordRoutes } from "./routes/password.routes.ts";
import { registerRegistrationRoutes } from "./routes/registration.routes.ts";
import { EmailVerificationService } from "./services/email-verification.service.ts";
import { PasswordPolicy } from "./services/password-policy.ts";
import { UnitOfWork, type Wake } from "@mimascota/shared/db/unit-of-work";
import { AccountService } from "./services/account.service.ts";
import { DeviceTrustService } from "./services/device-trust.service.ts";
import { CurrentPasswordCheck } from "./services/current-password.ts";
import { PasswordService } from "./services/password.service.ts";
import { RegistrationService } from "./services/registration.service.ts";
import { BackupCodeRepository } from "./repositories/backup-code.repository.ts";
import { TwoFactorRepository } from "./repositories/two-factor.repository.ts";
import { registerTwoFactorRoutes } from "./routes/two-factor.routes.ts";
import { TwoFactorCheckService } from "./services/two-factor-check.service.ts";
import { TwoFactorLoginService } from "./services/two-factor-login.service.ts";
import { TwoFactorService } from "./services/two-factor.service.ts";
import { TwoFactorAttemptLimiter } from "./two-factor/two-factor-attempts.ts";

/** Everything the auth service needs from the outside world; tests pass fakes or real servers here. */
export interface AuthDeps {
  config: AuthConfig;
  logger: Logger;
  clock: Clock;
  database: DatabaseHandle;
  kv: KeyValueStore;
  /** Wakes the mail worker and outbox relay after a commit, so delivery does not wait for the next poll. */
  wake?: Wake;
  /** Extra readiness checks of dependencies the service outlives (e.g. the event publisher), by name. */
  readiness?: Record<string, () => Promise<void>>;
  /** Gauges read at scrape time: outbox lag, mail queue depth, housekeeping. */
  queueStats?: MetricSources["queueStats"];
  housekeepingTotals?: MetricSources["housekeepingTotals"];
  housekeepingSchedule?: MetricSources["housekeepingSchedule"];
  /** The password hasher; by default one built from the ARGON2_* settings (tests pass one they can watch). */
  hasher?: PasswordHasher;
}

export type AuthApp = FastifyInstance & { withTypeProvider(): FastifyInstance };

/** The composition root of the auth service: repositories, services and routes, built from `deps`. */
export async function buildApp(deps: AuthDeps): Promise<FastifyInstance> {
  const { config } = deps;
  const app = createHttpServer({
    logger: deps.logger,
    bodyLimit: config.http.bodyLimitBytes,
    requestTimeoutMs: config.http.requestTimeoutMs,
    trustProxy: config.http.trustProxy,
    mapError: databaseOutageAs503,
  });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  await app.register(cookie);
  await app.register(
    swagger,
    swaggerOptions({
      title: "Mi Mascota auth service",
      description:
        "Accounts, sessions and two-factor authentication. Errors are RFC 9457 problem details " +
        "(`application/problem+json`) whose `code` clients branch on. Through the gateway every path is the same.",
      registry: openapiSchemas,
      securitySchemes: {
        refreshCookie: {
          type: "apiKey",
          in: "cookie",
          name: config.cookies.refreshName,
          description:
            "The refresh token, an HttpOnly cookie set by login and sent back by the browser; refresh and " +
            "logout also check the request's Origin against ALLOWED_ORIGINS.",
        },
      },
      tags: {
        accounts: "Sign up, email verification and passwords",
        sessions: "Sign in, refresh, sign out, the signed-in user and deleting the account",
        "two-factor": "TOTP two-factor authentication and backup codes",
        ops: "The public keys that verify access tokens",
      },
      setsCookie: [
        "post /api/v1/auth/login",
        "post /api/v1/auth/login/2fa",
        "post /api/v1/auth/refresh",
        "post /api/v1/auth/logout",
        "delete /api/v1/auth/me",
      ],
    }),
  );
  await app.register(swaggerUi, { routePrefix: "/docs" });
  const typed = app.withTypeProvider<ZodTypeProvider>();
  typed.get("/openapi.json", { schema: { hide: true } }, async () => app.swagger());

  // --- composition: repositories → services → routes ---
  const { db } = deps.database;
  // Every transaction that enqueues mail or events wakes its worker after commit, and runs its hooks.
  const work = new UnitOfWork({ db, wake: deps.wake });
  const hasher = deps.hasher ?? new PasswordHasher(config.argon2.params, config.argon2.concurrency);
  const metrics = new AuthMetrics({
    queueStats: deps.queueStats,
    housekeepingTotals: deps.housekeepingTotals,
    housekeepingSchedule: deps.housekeepingSchedule,
    passwordHashLoad: () => hasher.load,
  });
  const users = new UserRepository({ db });
  const oneTimeTokens = new OneTimeTokenRepository({ db });
  const passwordPolicy = new PasswordPolicy();
  const mailer = new AccountMailer(config.links);
  const registration = new RegistrationService({
    work,
    clock: deps.clock,
    settings: config,
    users,
    tokens: oneTimeTokens,
    mailer,
    policy: passwordPolicy,
    hasher,
    kv: deps.kv,
    onRegistered: () => metrics.registrations.inc(),
  });
  const verification = new EmailVerificationService({
    work,
    clock: deps.clock,
    settings: config,
    users,
    tokens: oneTimeTokens,
    mailer,
  });
  registerRegistrationRoutes(app, { registration, verification });

  // sessions: signing keys, access tokens, login with lockout, refresh rotation, logout, me, ops
  const sealer = await secretBoxFromConfig(config);
  const signingKeys = new SigningKeyService({
    db,
    clock: deps.clock,
    settings: config,
    keys: new SigningKeyRepository({ db }),
    sealer,
  });
  const accessTokens = new AccessTokenService({ clock: deps.clock, settings: config, keys: signingKeys });
  const throttles = new LoginThrottleRepository({ db });
  const sessions = new SessionService({
    db,
    clock: deps.clock,
    logger: deps.logger,
    settings: config,
    sessions: new SessionRepository({ db }),
    refreshTokens: new RefreshTokenRepository({ db }),
    accessTokens,
    kv: deps.kv,
    metrics,
    work,
  });
  const challenges = new TwoFactorChallengeRepository();
  const devices = new DeviceTrustService({ clock: deps.clock, settings: config, sealer, kv: deps.kv });
  const login = new LoginService({
    work,
    clock: deps.clock,
    settings: config,
    logins: new LoginRepository({ db }),
    throttles,
    challenges,
    hasher,
    sessions,
    accessTokens,
    mailer,
    metrics,
    devices,
  });
  // change-password, deleting the account and turning 2FA on or off share one limit on current-password guesses
  const currentPassword = new CurrentPasswordCheck({
    settings: config,
    clock: deps.clock,
    sessions,
    kv: deps.kv,
    users,
    hasher,
  });
  const accounts = new AccountService({
    work,
    clock: deps.clock,
    users,
    throttles,
    currentPassword,
    sessions,
    mailer,
  });
  registerSessionRoutes(app, {
    cookies: config.cookies,
    clock: deps.clock,
    login,
    sessions,
    accessTokens,
    accounts,
  });
  const passwords = new PasswordService({
    work,
    clock: deps.clock,
    settings: config,
    users,
    tokens: oneTimeTokens,
    mailer,
    policy: passwordPolicy,
    hasher,
    currentPassword,
    sessions,
    throttles,
  });
  registerPasswordRoutes(app, { passwords, authenticate: authenticate({ accessTokens, sessions }) });
  registerAccountPageRoutes(app, { passwords, loginUrl: mailer.links.login() });

  // two-factor: one code check (limits, replay, lockout count) shared by the management endpoints and login
  const credentials = new TwoFactorRepository({ db });
  const backupCodes = new BackupCodeRepository({ db });
  const checker = new TwoFactorCheckService({
    clock: deps.clock,
    credentials,
    backupCodes,
    sealer,
    limiter: new TwoFactorAttemptLimiter({ store: credentials, clock: deps.clock }),
    metrics,
    onFailure: (email) => login.recordSecondFactorFailure(email),
  });
  registerTwoFactorRoutes(app, {
    cookies: config.cookies,
    clock: deps.clock,
    twoFactor: new TwoFactorService({
      db,
      clock: deps.clock,
      users,
      currentPassword,
      credentials,
      backupCodes,
      sealer,
      checker,
      sessions,
      mailer,
      work,
    }),
    twoFactorLogin: new TwoFactorLoginService({
      db,
      clock: deps.clock,
      users,
      credentials,
      challenges,
      throttles,
      checker,
      sessions,
      accessTokens,
      metrics,
      devices,
    }),
    authenticate: authenticate({ accessTokens, sessions }),
  });
  registerAuthOpsRoutes(app, {
    checks: { database: () => deps.database.ping() },
    degradable: { kv: () => deps.kv.ping(), ...deps.readiness },
    metrics,
    signingKeys,
  });
  // The first key is made at start so the JWKS is never empty; a database still starting is not fatal here
  // (the key is then made on first use, and /ready reports the database).
  app.addHook("onReady", async () => {
    await signingKeys.ensureActive().catch((error: unknown) => {
      deps.logger.warn({ err: error }, "could not prepare the signing key yet");
    });
  });

  return app;
}

import { availableParallelism } from "node:os";
import { z } from "zod";
import {
  baseConfigShape,
  ConfigError,
  databaseConfigShape,
  env,
  kafkaConfigShape,
  parseConfig,
  pickVariables,
  redisConfigShape,
  smtpConfigShape,
  variablesOf,
} from "@mimascota/shared/config";
import { DEFAULT_JWT_AUDIENCE, DEFAULT_JWT_ISSUER } from "@mimascota/shared/auth-contract";
import { kafkaSecurity } from "@mimascota/shared/events/kafka-security";
import { opsConfigShape } from "@mimascota/shared/ops-port";
import type { Argon2Params } from "./crypto/password-hasher.ts";
import type { LockoutSettings } from "./domain/lockout-policy.ts";
import { keyRingBox } from "./two-factor/secret-box.ts";

const seconds = (fallback: number) => env.int(fallback, 1);
const cookieName = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/);

export const authConfigSchema = z.object({
  ...baseConfigShape,
  ...databaseConfigShape,
  ...redisConfigShape,
  ...kafkaConfigShape,
  ...smtpConfigShape,
  ...opsConfigShape,
  PORT: env.port(8006),
  HOST: env.string("127.0.0.1"),
  /** Base URL of the front end; every link in an email is built from it, never from the request's Host. */
  PUBLIC_APP_URL: env.url("http://localhost:3000"),
  /**
   * Where the password-reset mail links: unset, the page this backend serves itself (PUBLIC_API_URL +
   * /account/reset-password); set, an app's own page, which gets `?token=`.
   */
  RESET_PASSWORD_URL: env.optionalString(),
  /** Public base URL of the gateway (what users' browsers reach): the base of links to pages served here. */
  PUBLIC_API_URL: env.url("http://localhost:8080"),
  /**
   * How long after signing in (password, or password and 2FA) a session may turn 2FA on or off without the
   * password again (the original front end sends none). Kept server-side from the session, never renewed by
   * a refresh.
   */
  RECENT_AUTH_WINDOW: seconds(600),
  /** Registrations with a birth date younger than this are refused (UNDERAGE), as in the original system. */
  MINIMUM_AGE: env.int(16, 0),
  /** Origins allowed to call cookie endpoints (refresh, logout); anything else is refused before use. */
  ALLOWED_ORIGINS: env.list(["http://localhost:3000", "http://localhost:5173", "http://localhost:8080"]),
  TRUST_PROXY: env.proxies(),
  JWT_ISSUER: env.string(DEFAULT_JWT_ISSUER),
  JWT_AUDIENCE: env.string(DEFAULT_JWT_AUDIENCE),
  ACCESS_TOKEN_TTL: seconds(900),
  /**
   * How long `keys:rotate` publishes a new signing key before it signs: at least the verifiers' JWKS cache age
   * (the gateway's JWKS_CACHE_MAX_AGE, 600 s) plus the JWKS response's max-age (300 s), so every verifier
   * already knows the key when the first token it signs arrives. `keys:rotate --now` skips it (a leaked key).
   */
  SIGNING_KEY_ACTIVATION_DELAY: env.int(900, 0),
  REFRESH_IDLE_TTL: seconds(14 * 86400),
  REFRESH_ABSOLUTE_TTL: seconds(30 * 86400),
  REFRESH_REUSE_GRACE: env.int(10, 0),
  REFRESH_COOKIE_NAME: env.withDefault("refresh_token", cookieName),
  /** Only for local http development; browsers also accept Secure cookies on http://localhost. */
  COOKIE_SECURE: env.bool(true),
  VERIFICATION_TOKEN_TTL: seconds(86400),
  RESET_TOKEN_TTL: seconds(3600),
  RESEND_COOLDOWN: env.int(60, 0),
  LOCKOUT_THRESHOLD: env.int(10, 1),
  LOCKOUT_WINDOW: seconds(900),
  LOCKOUT_DURATION: seconds(1800),
  LOCKOUT_MAX_DURATION: seconds(86400),
  TWO_FACTOR_TOKEN_TTL: seconds(300),
  /** Lifetime of a device cookie (a browser that signed in; see DeviceTrustService), and its name. */
  DEVICE_COOKIE_TTL: seconds(180 * 86400),
  DEVICE_COOKIE_NAME: env.withDefault("device", cookieName),
  ARGON2_MEMORY_KIB: env.int(19456, 19456),
  ARGON2_TIME_COST: env.int(2, 2),
  ARGON2_PARALLELISM: env.int(1, 1),
  /** Password hashes run at once; more wait their turn. Default: one per CPU this process may run on. */
  ARGON2_CONCURRENCY: env.int(availableParallelism(), 1),
  /**
   * 32 bytes, base64: encrypts signing keys and TOTP secrets at rest. Unset in embedded mode means a key is
   * generated once under DATA_DIR; required in production.
   */
  ENCRYPTION_KEY: env.optionalString(),
  /**
   * Keys that sealed earlier values, `<version>:<base64>` comma-separated: they open, never seal. To rotate,
   * move the old key here, set a new ENCRYPTION_KEY with a higher version, run `npm run keys:reseal`, then
   * drop the old key (services/auth/docs/sessions.md).
   */
  ENCRYPTION_KEYS_PREVIOUS: env.optionalString(),
  MAIL_FROM: env.string("Mi Mascota <no-reply@mimascota.app>"),
  BODY_LIMIT_BYTES: env.int(16 * 1024, 1024),
  /** Time a client has to send its whole request, head and body, before 408 and a closed connection. */
  REQUEST_TIMEOUT_MS: env.int(30_000, 100),
  /**
   * Register, resend-verification and forgot-password answer no sooner than this (ms), whatever the email, so
   * the different work done for known and unknown addresses is not visible in the response time.
   */
  ACCOUNT_RESPONSE_FLOOR_MS: env.int(200, 0),
  /** Seconds between housekeeping passes (deleting ended sessions, used tokens, idle throttle rows); 0: off. */
  HOUSEKEEPING_INTERVAL: env.int(3600, 0),
  /** Seconds a session, token, published event or sent mail is kept after it stopped mattering. */
  HOUSEKEEPING_RETENTION: seconds(7 * 86400),
});

/** The environment as parsed: the operators' names and units (seconds), before `authSettings` maps it. */
export type AuthEnv = z.output<typeof authConfigSchema>;

/**
 * What the service connects to and listens on, kept under the variables' own names: shared helpers
 * (`openDatabase`, `kafkaSecurity`, `opsPortOf`, the mail transport) and the start scripts read these.
 */
const connectionKeys = [
  ...variablesOf(
    baseConfigShape,
    databaseConfigShape,
    redisConfigShape,
    kafkaConfigShape,
    smtpConfigShape,
    opsConfigShape,
  ),
  "PORT",
  "HOST",
  "MAIL_FROM",
  "ENCRYPTION_KEY",
  "ENCRYPTION_KEYS_PREVIOUS",
] as const satisfies readonly (keyof AuthEnv)[];

const SECOND = 1000;

/**
 * The rules' settings, grouped by concern, durations in milliseconds. A duration is also given in seconds only
 * where a standard counts in them (a JWT's `exp`, `expires_in`, a cookie's Max-Age).
 */
export function authSettings(env: AuthEnv) {
  return {
    http: {
      bodyLimitBytes: env.BODY_LIMIT_BYTES,
      requestTimeoutMs: env.REQUEST_TIMEOUT_MS,
      trustProxy: env.TRUST_PROXY.length > 0 ? env.TRUST_PROXY : (false as const),
    },
    /** Where links in mails and pages point (`AccountMailer`). */
    links: {
      publicAppUrl: env.PUBLIC_APP_URL,
      publicApiUrl: env.PUBLIC_API_URL,
      resetPasswordUrl: env.RESET_PASSWORD_URL,
    },
    accessTokens: {
      issuer: env.JWT_ISSUER,
      audience: env.JWT_AUDIENCE,
      ttlSeconds: env.ACCESS_TOKEN_TTL,
      ttlMs: env.ACCESS_TOKEN_TTL * SECOND,
    },
    signingKeys: { activationDelayMs: env.SIGNING_KEY_ACTIVATION_DELAY * SECOND },
    refresh: {
      idleTtlMs: env.REFRESH_IDLE_TTL * SECOND,
      absoluteTtlMs: env.REFRESH_ABSOLUTE_TTL * SECOND,
      reuseGraceMs: env.REFRESH_REUSE_GRACE * SECOND,
      /** Origins that may present the refresh cookie (refresh, logout). */
      allowedOrigins: env.ALLOWED_ORIGINS,
    },
    cookies: {
      refreshName: env.REFRESH_COOKIE_NAME,
      deviceName: env.DEVICE_COOKIE_NAME,
      secure: env.COOKIE_SECURE,
      deviceTtlSeconds: env.DEVICE_COOKIE_TTL,
      deviceTtlMs: env.DEVICE_COOKIE_TTL * SECOND,
    },
    /** Email verification and password reset: the mailed tokens and the answers that send them. */
    accountTokens: {
      verificationTtlMs: env.VERIFICATION_TOKEN_TTL * SECOND,
      resetTtlMs: env.RESET_TOKEN_TTL * SECOND,
      resendCooldownMs: env.RESEND_COOLDOWN * SECOND,
      responseFloorMs: env.ACCOUNT_RESPONSE_FLOOR_MS,
    },
    registration: { minimumAge: env.MINIMUM_AGE },
    lockout: {
      threshold: env.LOCKOUT_THRESHOLD,
      windowMs: env.LOCKOUT_WINDOW * SECOND,
      durationMs: env.LOCKOUT_DURATION * SECOND,
      maxDurationMs: env.LOCKOUT_MAX_DURATION * SECOND,
    } satisfies LockoutSettings,
    twoFactor: {
      challengeTtlSeconds: env.TWO_FACTOR_TOKEN_TTL,
      challengeTtlMs: env.TWO_FACTOR_TOKEN_TTL * SECOND,
      /** How long after signing in a session may change 2FA or its account without the password again. */
      recentSignInMs: env.RECENT_AUTH_WINDOW * SECOND,
    },
    argon2: {
      params: {
        memoryCost: env.ARGON2_MEMORY_KIB,
        timeCost: env.ARGON2_TIME_COST,
        parallelism: env.ARGON2_PARALLELISM,
      } satisfies Argon2Params,
      /** Hashes run at once; more wait their turn. */
      concurrency: env.ARGON2_CONCURRENCY,
    },
    /** `intervalMs` 0: no passes. */
    housekeeping: {
      intervalMs: env.HOUSEKEEPING_INTERVAL * SECOND,
      retentionMs: env.HOUSEKEEPING_RETENTION * SECOND,
    },
  };
}

export type AuthSettings = ReturnType<typeof authSettings>;

/** What the service is built from: where it connects (variables' names) and its settings by concern. */
export type AuthConfig = Pick<AuthEnv, (typeof connectionKeys)[number]> & AuthSettings;

/**
 * Parses and checks the environment (every bad variable named at once), then maps it once: nothing else reads
 * a variable's name or converts its unit.
 */
export function loadAuthConfig(environment: NodeJS.ProcessEnv = process.env): AuthConfig {
  const config = parseConfig(authConfigSchema, environment);
  if (config.NODE_ENV === "production" && !config.ENCRYPTION_KEY) {
    throw new ConfigError("Invalid configuration:\n  ENCRYPTION_KEY: required when NODE_ENV=production");
  }
  if (config.ENCRYPTION_KEY) {
    try {
      // The same construction the service does at start, so what passes here opens at start.
      keyRingBox(config.ENCRYPTION_KEY, config.ENCRYPTION_KEYS_PREVIOUS);
    } catch (error) {
      throw new ConfigError(`Invalid configuration:\n  ${(error as Error).message}`);
    }
  } else if (config.ENCRYPTION_KEYS_PREVIOUS) {
    throw new ConfigError("Invalid configuration:\n  ENCRYPTION_KEYS_PREVIOUS: needs ENCRYPTION_KEY");
  }
  // The dev mailbox prints every link (verification and reset tokens) to the log: fine on a laptop, never in
  // production.
  if (config.NODE_ENV === "production" && !config.SMTP_URL) {
    throw new ConfigError("Invalid configuration:\n  SMTP_URL: required when NODE_ENV=production");
  }
  // The same construction the service does at start (reads the CA file), so a bad Kafka setting stops here.
  kafkaSecurity(config);
  return { ...pickVariables(config, connectionKeys), ...authSettings(config) };
}

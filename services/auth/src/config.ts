import { availableParallelism } from "node:os";
import { z } from "zod";
import {
  baseConfigShape,
  ConfigError,
  databaseConfigShape,
  env,
  kafkaConfigShape,
  parseConfig,
  redisConfigShape,
  smtpConfigShape,
} from "@mimascota/shared/config";
import { DEFAULT_JWT_AUDIENCE, DEFAULT_JWT_ISSUER } from "@mimascota/shared/auth-contract";
import { kafkaSecurity } from "@mimascota/shared/events/kafka-security";
import { opsConfigShape } from "@mimascota/shared/ops-port";
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

export type AuthConfig = z.output<typeof authConfigSchema>;

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
  return config;
}

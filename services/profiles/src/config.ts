import { join } from "node:path";
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
  variablesOf,
} from "@mimascota/shared/config";
import { tokenVerificationConfigShape, tokenVerifierOptions } from "@mimascota/shared/auth/token-verifier";
import { kafkaSecurity } from "@mimascota/shared/events/kafka-security";
import { opsConfigShape } from "@mimascota/shared/ops-port";
import { s3Settings, storageConfigShape } from "./storage/storage-config.ts";

export const profilesConfigSchema = z.object({
  ...baseConfigShape,
  ...databaseConfigShape,
  ...redisConfigShape,
  ...kafkaConfigShape,
  ...opsConfigShape,
  ...tokenVerificationConfigShape,
  ...storageConfigShape,
  PORT: env.port(8082),
  HOST: env.string("127.0.0.1"),
  /** The auth service, whose JWKS verifies the tokens the gateway forwards (unless JWKS_URL says otherwise). */
  AUTH_SERVICE_URL: env.url("http://127.0.0.1:8006"),
  /** Public base URL of the gateway: photo URLs are built from it, never from the request's Host. */
  PUBLIC_API_URL: env.url("http://localhost:8080"),
  /** The Kafka consumer group; every replica joins the same one, so each event is applied once. */
  KAFKA_CONSUMER_GROUP: env.string("mimascota-profiles"),
  /**
   * Where a consumer group with no committed position begins: `earliest` builds profiles from every
   * registration the topics still hold; `latest` starts from now (tests that share a broker).
   */
  KAFKA_CONSUMER_START: env.withDefault("earliest", z.enum(["earliest", "latest"])),
  TRUST_PROXY: env.proxies(),
  BODY_LIMIT_BYTES: env.int(16 * 1024, 1024),
  /** Largest photo upload, bytes (the contract's 5 MB). */
  PHOTO_MAX_BYTES: env.int(5 * 1024 * 1024, 1024),
  /** Largest decoded image, pixels: a small file declaring a huge image (a decompression bomb) is refused. */
  PHOTO_MAX_PIXELS: env.int(40_000_000, 1),
  /** Stored photos fit in a square of this many pixels. */
  PHOTO_MAX_EDGE: env.int(1024, 64),
  REQUEST_TIMEOUT_MS: env.int(30_000, 100),
  /** A birth date younger than this is refused (UNDERAGE), as at registration. */
  MINIMUM_AGE: env.int(16, 0),
  /** Seconds between housekeeping passes: photo deletions the store refused (it was down), old event ids. */
  OBJECT_SWEEP_INTERVAL: env.int(60, 1),
  /**
   * Seconds an applied event's id is remembered (to recognise a redelivery): longer than the topics keep
   * events (Kafka's default retention is 7 days).
   */
  PROCESSED_EVENT_RETENTION: env.int(30 * 86400, 3600),
});

type ProfilesEnv = z.output<typeof profilesConfigSchema>;

const SECOND = 1000;

/** Kept under their variable names: where the service connects and listens (and the storage, see storage-config). */
const connectionKeys = [
  ...variablesOf(
    baseConfigShape,
    databaseConfigShape,
    redisConfigShape,
    kafkaConfigShape,
    opsConfigShape,
    storageConfigShape,
  ),
  "PORT",
  "HOST",
] as const;

/** Everything else, mapped once by concern, durations in milliseconds. */
export function profilesSettings(env: ProfilesEnv) {
  return {
    http: {
      bodyLimitBytes: env.BODY_LIMIT_BYTES,
      requestTimeoutMs: env.REQUEST_TIMEOUT_MS,
      trustProxy: env.TRUST_PROXY.length > 0 ? env.TRUST_PROXY : (false as const),
    },
    /** Photo URLs are built from the gateway's public address, never from the request's Host. */
    links: { publicApiUrl: env.PUBLIC_API_URL },
    /** Access-token verification (`TokenVerifier`'s options): the auth service's JWKS. */
    tokens: tokenVerifierOptions(env),
    photos: {
      maxBytes: env.PHOTO_MAX_BYTES,
      maxInputPixels: env.PHOTO_MAX_PIXELS,
      maxEdge: env.PHOTO_MAX_EDGE,
    },
    profiles: { minimumAge: env.MINIMUM_AGE },
    consumer: { group: env.KAFKA_CONSUMER_GROUP, newGroupStartsAt: env.KAFKA_CONSUMER_START },
    housekeeping: {
      intervalMs: env.OBJECT_SWEEP_INTERVAL * SECOND,
      processedEventRetentionMs: env.PROCESSED_EVENT_RETENTION * SECOND,
    },
  };
}

export type ProfilesSettings = ReturnType<typeof profilesSettings>;
export type ProfilesConfig = Pick<ProfilesEnv, (typeof connectionKeys)[number]> & ProfilesSettings;

export function loadProfilesConfig(environment: NodeJS.ProcessEnv = process.env): ProfilesConfig {
  const config = parseConfig(profilesConfigSchema, environment);
  // Without a broker, profiles would be made at first sign-in only and registrations' fields lost: fine on a
  // laptop (npm start delivers events in process), never in production.
  if (config.NODE_ENV === "production" && config.KAFKA_BROKERS.length === 0) {
    throw new ConfigError("Invalid configuration:\n  KAFKA_BROKERS: required when NODE_ENV=production");
  }
  // The same constructions the service does at start (reads the CA file; checks the S3 settings agree), so a
  // bad Kafka or storage setting stops here.
  kafkaSecurity(config);
  s3Settings(config);
  return { ...pickVariables(config, connectionKeys), ...profilesSettings(config) };
}

/**
 * The service's own folder under DATA_DIR (embedded database and photos): `npm start` runs all three services
 * over one DATA_DIR, and two embedded databases must never share a folder.
 */
export function profilesDataDir(config: Pick<ProfilesConfig, "DATA_DIR">): string {
  return join(config.DATA_DIR, "profiles");
}

import ipaddr from "ipaddr.js";
import { z } from "zod";

/**
 * Parses the environment once at boot. On failure it throws one error whose message names every bad
 * variable, so an operator sees `DATABASE_URL: Invalid URL` instead of a stack trace from deep inside.
 */
export function parseConfig<S extends z.ZodType>(
  schema: S,
  env: NodeJS.ProcessEnv = process.env,
): z.output<S> {
  const result = schema.safeParse(env);
  if (result.success) return result.data;
  const lines = result.error.issues.map((issue) => `  ${issue.path.join(".") || "(env)"}: ${issue.message}`);
  throw new ConfigError(`Invalid configuration:\n${lines.join("\n")}`);
}

export class ConfigError extends Error {
  override name = "ConfigError";
}

/**
 * The parsed variables a service keeps under their own names (where it connects and listens), next to the
 * settings it maps by concern: a mapped variable is then read in one place only.
 */
export function pickVariables<T extends object, K extends keyof T>(
  parsed: T,
  keys: readonly K[],
): Pick<T, K> {
  return Object.fromEntries(keys.map((key) => [key, parsed[key]])) as Pick<T, K>;
}

type KeysOf<T> = T extends object ? keyof T & string : never;

/** The variable names of the shapes below (a service's connection settings, for `pickVariables`). */
export function variablesOf<const S extends readonly object[]>(...shapes: S): KeysOf<S[number]>[] {
  return shapes.flatMap((shape) => Object.keys(shape)) as KeysOf<S[number]>[];
}

/**
 * For a process's entry point: each configuration, or every ConfigError's lines on stderr at once (one line
 * per bad variable, no stack: a setting is wrong, the code is not) and exit code 1.
 */
export function loadConfigOrExit<const L extends readonly (() => unknown)[]>(
  ...loads: L
): { [K in keyof L]: ReturnType<L[K]> } {
  const problems: string[] = [];
  const configs = loads.map((load) => {
    try {
      return load();
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      problems.push(...error.message.split("\n").filter((line) => line.startsWith("  ")));
      return undefined;
    }
  });
  if (problems.length > 0) {
    process.stderr.write(`Invalid configuration:\n${[...new Set(problems)].join("\n")}\n`);
    process.exit(1);
  }
  return configs as { [K in keyof L]: ReturnType<L[K]> };
}

/** The names proxy-addr (fastify's trustProxy) knows besides addresses and CIDRs. */
const NAMED_RANGES = new Set(["loopback", "linklocal", "uniquelocal"]);

/** An IPv4/IPv6 address, a CIDR (`10.0.0.0/8`, `fd00::/8`), or one of proxy-addr's named ranges. */
function isProxyEntry(entry: string): boolean {
  if (NAMED_RANGES.has(entry)) return true;
  if (!entry.includes("/")) return ipaddr.isValid(entry);
  try {
    ipaddr.parseCIDR(entry);
    return true;
  } catch {
    return false;
  }
}

/** Environment strings to typed values. Empty strings count as unset, as most .env tooling writes them. */
export const env = {
  /** `schema` over the value, or over `fallback` when the variable is unset or empty. */
  withDefault: <S extends z.ZodType>(fallback: string, schema: S) =>
    z.preprocess((v) => (v === "" || v === undefined ? fallback : v), schema),
  string: (fallback: string) => env.withDefault(fallback, z.string().min(1)),
  url: (fallback: string) => env.withDefault(fallback, z.url()),
  optionalString: () =>
    z.preprocess((v) => (v === "" ? undefined : v), z.string().optional()) as z.ZodType<string | undefined>,
  optionalUrl: () =>
    z.preprocess((v) => (v === "" ? undefined : v), z.url().optional()) as z.ZodType<string | undefined>,
  int: (fallback: number, min = 0) =>
    z.preprocess((v) => (v === "" || v === undefined ? fallback : v), z.coerce.number().int().min(min)),
  port: (fallback: number) =>
    z.preprocess(
      (v) => (v === "" || v === undefined ? fallback : v),
      z.coerce.number().int().min(0).max(65535),
    ),
  bool: (fallback: boolean) =>
    z.preprocess(
      (v) => (v === "" || v === undefined ? String(fallback) : v),
      z.enum(["true", "false", "1", "0"]).transform((v) => v === "true" || v === "1"),
    ),
  list: (fallback: string[] = []) =>
    z.preprocess(
      (v) =>
        v === "" || v === undefined
          ? fallback
          : (v as string)
              .split(",")
              .map((s) => s.trim())
              .filter(Boolean),
      z.array(z.string()),
    ),
  /** Trusted proxies: each entry checked at parse time (an invalid one used to crash the server later). */
  proxies: () =>
    env.list([]).pipe(
      z.array(z.string()).superRefine((entries, ctx) => {
        for (const entry of entries) {
          if (!isProxyEntry(entry)) {
            ctx.addIssue({ code: "custom", message: `not an IP address, CIDR or named range: "${entry}"` });
          }
        }
      }),
    ),
  logLevel: () =>
    z.preprocess(
      (v) => (v === "" || v === undefined ? "info" : v),
      z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]),
    ),
  nodeEnv: () =>
    z.preprocess(
      (v) => (v === "" || v === undefined ? "development" : v),
      z.enum(["development", "production", "test"]),
    ),
};

/**
 * Settings by concern, which each service composes from what it uses (the gateway takes no database, Kafka or
 * SMTP settings, so a bad Kafka variable cannot stop it).
 */
export const baseConfigShape = {
  NODE_ENV: env.nodeEnv(),
  LOG_LEVEL: env.logLevel(),
  /** Where embedded data lives (PGlite, the generated encryption key, the dev mailbox). */
  DATA_DIR: env.string("./.data"),
};

export const databaseConfigShape = {
  /** Unset means embedded PGlite under DATA_DIR. */
  DATABASE_URL: env.optionalUrl(),
};

/**
 * What a migration entry point reads (`npm run migrate`, a Kubernetes init container): the database and where
 * embedded data lives, nothing else, so a migration never demands a service's secrets or broker settings.
 */
export function loadMigrationConfig(environment: NodeJS.ProcessEnv = process.env) {
  return parseConfig(z.object({ ...baseConfigShape, ...databaseConfigShape }), environment);
}

export const redisConfigShape = {
  /** Unset means the in-memory key-value store (one process only). */
  REDIS_URL: env.optionalUrl(),
};

export const kafkaConfigShape = {
  /** Comma-separated host:port list. Unset means events are written to the log. */
  KAFKA_BROKERS: env.list(),
  /** TLS to the brokers (system CAs, plus KAFKA_TLS_CA_FILE, a PEM bundle, if set). */
  KAFKA_TLS: env.bool(false),
  KAFKA_TLS_CA_FILE: env.optionalString(),
  /** SASL: plain, scram-sha-256 or scram-sha-512, with KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD. */
  KAFKA_SASL_MECHANISM: z.preprocess(
    (v) => (v === "" ? undefined : typeof v === "string" ? v.toLowerCase() : v),
    z.enum(["plain", "scram-sha-256", "scram-sha-512"]).optional(),
  ),
  KAFKA_SASL_USERNAME: env.optionalString(),
  KAFKA_SASL_PASSWORD: env.optionalString(),
};

export const smtpConfigShape = {
  /** smtp:// or smtps:// URL. Unset means the dev mailbox under DATA_DIR/mail. */
  SMTP_URL: env.optionalUrl(),
};

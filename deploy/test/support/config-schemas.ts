import type { z } from "zod";
import { authConfigSchema, loadAuthConfig } from "../../../services/auth/src/config.ts";
import { gatewayConfigSchema, loadGatewayConfig } from "../../../services/gateway/src/config.ts";
import { loadProfilesConfig, profilesConfigSchema } from "../../../services/profiles/src/config.ts";
import { s3Settings } from "../../../services/profiles/src/storage/storage-config.ts";

/** What the deployment files must agree with: each service's zod config schema and its loader. */
export interface ServiceConfig {
  keys: Set<string>;
  /** Keys whose schema refuses an unset value. */
  required: string[];
  /** Keys a deployment with real infrastructure must set although the schema has an embedded default. */
  deployment: string[];
  load: (env: Record<string, string>) => unknown;
}

const schemaRequired = (schema: z.ZodObject) =>
  Object.entries(schema.shape)
    .filter(([, field]) => !(field as z.ZodType).safeParse(undefined).success)
    .map(([key]) => key);

export type ServiceName = "auth" | "gateway" | "profiles";

/** What a service listens on in a container. */
const listening = ["NODE_ENV", "HOST", "PORT"];
/** The shared infrastructure of the services that keep data; unset, each would fall back to an embedded one. */
const infrastructure = ["DATABASE_URL", "REDIS_URL", "KAFKA_BROKERS"];

export const serviceConfigs: Record<ServiceName, ServiceConfig> = {
  auth: {
    keys: new Set(Object.keys(authConfigSchema.shape)),
    required: schemaRequired(authConfigSchema),
    deployment: [...listening, ...infrastructure, "SMTP_URL", "ENCRYPTION_KEY", "PUBLIC_APP_URL"],
    load: loadAuthConfig,
  },
  gateway: {
    keys: new Set(Object.keys(gatewayConfigSchema.shape)),
    required: schemaRequired(gatewayConfigSchema),
    deployment: [...listening, "AUTH_SERVICE_URL", "PROFILES_SERVICE_URL", "REDIS_URL"],
    load: loadGatewayConfig,
  },
  profiles: {
    keys: new Set(Object.keys(profilesConfigSchema.shape)),
    required: schemaRequired(profilesConfigSchema),
    // Without S3_BUCKET photos would go to the pod's own disk, which the other replicas cannot read.
    deployment: [...listening, ...infrastructure, "AUTH_SERVICE_URL", "PUBLIC_API_URL", "S3_BUCKET"],
    // The service checks the S3 settings together when it opens the store; a deployment must pass that too.
    load: (env) => s3Settings(loadProfilesConfig(env)),
  },
};

/** Checks one service's environment against its schema; returns the problems, none when it fits. */
export function environmentProblems(service: ServiceName, env: Record<string, string>): string[] {
  const config = serviceConfigs[service];
  const problems = Object.keys(env)
    .filter((key) => !config.keys.has(key))
    .map((key) => `${key} is not a setting of ${service}`);
  for (const key of [...config.required, ...config.deployment]) {
    if (!env[key]) problems.push(`${key} is not set for ${service}`);
  }
  if (env.NODE_ENV !== "production") problems.push(`NODE_ENV is ${env.NODE_ENV}, not production`);
  if (env.HOST !== "0.0.0.0") problems.push(`HOST ${env.HOST} would not accept connections from other hosts`);
  try {
    config.load(env);
  } catch (error) {
    problems.push(`${service} refuses the environment: ${(error as Error).message}`);
  }
  return problems;
}

import type { z } from "zod";
import { ConfigError, env } from "@mimascota/shared/config";

/** S3's bucket naming rule (lowercase letters, digits, dots and hyphens; 3 to 63; a letter or digit at each end). */
const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/**
 * Object storage settings, for a service's config schema (`z.object({ ...baseConfigShape,
 * ...storageConfigShape })`). Unset S3_BUCKET means photos go to the folder `<DATA_DIR>/objects`.
 */
export const storageConfigShape = {
  /** An S3-compatible endpoint (MinIO, Ceph, R2, S3Proxy). Unset means AWS S3's own endpoint for S3_REGION. */
  S3_ENDPOINT: env.optionalUrl(),
  S3_REGION: env.string("us-east-1"),
  /** The bucket photos go to. Unset means the local folder store (embedded mode). */
  S3_BUCKET: env
    .optionalString()
    .refine((name) => name === undefined || BUCKET_NAME.test(name), "not a valid S3 bucket name"),
  /** Both or neither: unset means the SDK's default credential chain (environment, profile, IAM role). */
  S3_ACCESS_KEY_ID: env.optionalString(),
  S3_SECRET_ACCESS_KEY: env.optionalString(),
  /** `bucket` in the path instead of the host name: what MinIO, Ceph and S3Proxy usually need. */
  S3_FORCE_PATH_STYLE: env.bool(false),
  /** Create the bucket at start if it is missing: for development and tests, not production. */
  S3_CREATE_BUCKET: env.bool(false),
};

export type StorageConfig = z.output<z.ZodObject<typeof storageConfigShape>>;

/** What the S3 adapter needs, once the settings have been checked together. */
export interface S3Settings {
  bucket: string;
  region: string;
  endpoint: string | undefined;
  forcePathStyle: boolean;
  credentials: { accessKeyId: string; secretAccessKey: string } | undefined;
  createBucket: boolean;
}

/**
 * The S3 settings, `undefined` when S3_BUCKET is unset (the folder store), or a ConfigError naming what does
 * not fit together. Call it where the config is loaded, so a bad pair fails the boot with the other errors.
 */
export function s3Settings(config: StorageConfig): S3Settings | undefined {
  const problems: string[] = [];
  const accessKeyId = config.S3_ACCESS_KEY_ID;
  const secretAccessKey = config.S3_SECRET_ACCESS_KEY;
  if ((accessKeyId === undefined) !== (secretAccessKey === undefined)) {
    problems.push("S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY: set both or neither");
  }
  if (config.S3_BUCKET === undefined) {
    for (const name of ["S3_ENDPOINT", "S3_ACCESS_KEY_ID", "S3_SECRET_ACCESS_KEY"] as const) {
      // Without a bucket these would be silently ignored and photos would land on the local disk.
      if (config[name] !== undefined) problems.push(`S3_BUCKET: required when ${name} is set`);
    }
  }
  if (problems.length > 0) {
    throw new ConfigError(`Invalid configuration:\n${problems.map((p) => `  ${p}`).join("\n")}`);
  }
  if (config.S3_BUCKET === undefined) return undefined;
  return {
    bucket: config.S3_BUCKET,
    region: config.S3_REGION,
    endpoint: config.S3_ENDPOINT,
    forcePathStyle: config.S3_FORCE_PATH_STYLE,
    credentials:
      accessKeyId !== undefined && secretAccessKey !== undefined
        ? { accessKeyId, secretAccessKey }
        : undefined,
    createBucket: config.S3_CREATE_BUCKET,
  };
}

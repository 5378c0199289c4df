import { join } from "node:path";
import type { Logger } from "pino";
import { FolderObjectStore } from "./folder-object-store.ts";
import type { ObjectStore } from "./object-store.ts";
import { S3ObjectStore, type S3Timeouts } from "./s3-object-store.ts";
import { s3Settings, type StorageConfig } from "./storage-config.ts";

export interface ObjectStoreOptions {
  /** DATA_DIR: the folder store keeps its objects in `<dataDir>/objects`. */
  dataDir: string;
  logger: Logger;
  /** Tests shorten these; the defaults suit production. */
  s3Timeouts?: Partial<S3Timeouts>;
}

/**
 * S3-compatible storage when S3_BUCKET is set, else the local folder. Async because S3_CREATE_BUCKET creates
 * the bucket before the store is handed out (a failure there fails the boot, as a bad setting should).
 */
export async function createObjectStore(
  config: StorageConfig,
  options: ObjectStoreOptions,
): Promise<ObjectStore> {
  const settings = s3Settings(config);
  if (!settings) {
    const root = join(options.dataDir, "objects");
    options.logger.info({ root }, "object store: local folder");
    return new FolderObjectStore({ root });
  }
  const { createBucket, ...connection } = settings;
  const store = new S3ObjectStore({
    ...connection,
    logger: options.logger,
    ...(options.s3Timeouts ? { timeouts: options.s3Timeouts } : {}),
  });
  options.logger.info(
    { bucket: settings.bucket, endpoint: settings.endpoint ?? "aws", region: settings.region },
    "object store: S3",
  );
  if (createBucket) {
    try {
      await store.createBucketIfMissing();
    } catch (error) {
      await store.close();
      throw error;
    }
  }
  return store;
}

import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from "@aws-sdk/client-s3";
import type { Logger } from "pino";
import { assertValidObjectKey } from "./object-key.ts";
import type { ObjectStore, StoredObject } from "./object-store.ts";
import type { S3Settings } from "./storage-config.ts";

/** How long each stage may take (ms). A store that stops answering fails the call instead of holding it. */
export interface S3Timeouts {
  /** Establishing the TCP (and TLS) connection. */
  connectMs: number;
  /** From sending a request to its response headers, and the longest silence while a body streams. */
  requestMs: number;
  /** One whole operation, retries included. */
  operationMs: number;
  /** One readiness probe, retries included: shorter than /ready's own deadline. */
  pingMs: number;
}

const DEFAULT_TIMEOUTS: S3Timeouts = {
  connectMs: 2_000,
  requestMs: 10_000,
  operationMs: 20_000,
  pingMs: 1_500,
};

export interface S3ObjectStoreOptions extends Omit<S3Settings, "createBucket"> {
  logger: Logger;
  timeouts?: Partial<S3Timeouts>;
}

/**
 * The S3-compatible implementation (AWS S3, MinIO, Ceph, R2, S3Proxy) through the AWS SDK v3. Checksums are
 * computed and validated only where the S3 API requires them: the SDK's default flexible checksums are
 * refused by most S3-compatible servers (S3Proxy answers 501), and TLS to a production store already guards
 * the bytes in transit.
 */
export class S3ObjectStore implements ObjectStore {
  readonly kind = "s3";
  readonly #client: S3Client;
  readonly #bucket: string;
  readonly #logger: Logger;
  readonly #timeouts: S3Timeouts;

  constructor(options: S3ObjectStoreOptions) {
    this.#bucket = options.bucket;
    this.#logger = options.logger.child({ component: "object-store", bucket: options.bucket });
    this.#timeouts = { ...DEFAULT_TIMEOUTS, ...options.timeouts };
    this.#client = new S3Client({
      region: options.region,
      forcePathStyle: options.forcePathStyle,
      requestChecksumCalculation: "WHEN_REQUIRED",
      responseChecksumValidation: "WHEN_REQUIRED",
      // Two tries: one retry absorbs a dropped keep-alive connection; more would multiply a hung store's wait.
      maxAttempts: 2,
      requestHandler: {
        connectionTimeout: this.#timeouts.connectMs,
        requestTimeout: this.#timeouts.requestMs,
        socketTimeout: this.#timeouts.requestMs,
        // Without it a request past requestTimeout is only logged as a warning and goes on waiting.
        throwOnRequestTimeout: true,
      },
      ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
      ...(options.credentials === undefined ? {} : { credentials: options.credentials }),
    });
  }

  async put(key: string, body: Buffer, contentType: string): Promise<void> {
    assertValidObjectKey(key);
    await this.#client.send(
      new PutObjectCommand({
        Bucket: this.#bucket,
        Key: key,
        Body: body,
        ContentType: contentType,
        ContentLength: body.length,
      }),
      { abortSignal: AbortSignal.timeout(this.#timeouts.operationMs) },
    );
  }

  async get(key: string): Promise<StoredObject | undefined> {
    assertValidObjectKey(key);
    const abortSignal = AbortSignal.timeout(this.#timeouts.operationMs);
    try {
      const response = await this.#client.send(new GetObjectCommand({ Bucket: this.#bucket, Key: key }), {
        abortSignal,
      });
      const bytes = await response.Body?.transformToByteArray();
      return {
        body: bytes ? Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength) : Buffer.alloc(0),
        contentType: response.ContentType ?? "application/octet-stream",
        etag: (response.ETag ?? "").replaceAll('"', ""),
      };
    } catch (error) {
      if (error instanceof S3ServiceException && error.name === "NoSuchKey") return undefined;
      throw error;
    }
  }

  async delete(key: string): Promise<void> {
    assertValidObjectKey(key);
    // S3 answers 204 for a key that is not there, so deleting is idempotent without a check first.
    await this.#client.send(new DeleteObjectCommand({ Bucket: this.#bucket, Key: key }), {
      abortSignal: AbortSignal.timeout(this.#timeouts.operationMs),
    });
  }

  /** HeadBucket: proves the endpoint answers, the credentials are accepted and the bucket exists. */
  async ping(): Promise<void> {
    await this.#client.send(new HeadBucketCommand({ Bucket: this.#bucket }), {
      abortSignal: AbortSignal.timeout(this.#timeouts.pingMs),
    });
  }

  /**
   * For development and tests (S3_CREATE_BUCKET): creates the bucket unless it is already there. Outside
   * us-east-1 the SDK names the client's region as the bucket's location, which AWS and MinIO expect and
   * S3Proxy refuses (run it with the default region).
   */
  async createBucketIfMissing(): Promise<void> {
    try {
      await this.ping();
      return;
    } catch (error) {
      if (!isMissingBucket(error)) throw error;
    }
    try {
      await this.#client.send(new CreateBucketCommand({ Bucket: this.#bucket }), {
        abortSignal: AbortSignal.timeout(this.#timeouts.operationMs),
      });
      this.#logger.info("created the bucket");
    } catch (error) {
      // Another instance starting at the same moment may have created it first.
      if (!(error instanceof S3ServiceException && error.name === "BucketAlreadyOwnedByYou")) throw error;
    }
  }

  async close(): Promise<void> {
    this.#client.destroy();
  }
}

/** HeadBucket's answer for a missing bucket: a bare 404 (a HEAD has no body to name the error). */
function isMissingBucket(error: unknown): boolean {
  return error instanceof S3ServiceException && error.$metadata.httpStatusCode === 404;
}

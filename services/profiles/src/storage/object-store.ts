/**
 * Where profile photos live. Two implementations: a folder under DATA_DIR (embedded mode, one machine) and
 * S3-compatible object storage (production: AWS S3, MinIO, Ceph, R2). Keys are made by the caller and checked
 * by both (see object-key.ts); an invalid key is an InvalidObjectKeyError, a programming error.
 */
export interface StoredObject {
  body: Buffer;
  contentType: string;
  /** Changes whenever the content does; usable as an HTTP ETag (without quotes). */
  etag: string;
}

export interface ObjectStore {
  readonly kind: "folder" | "s3";
  /** Creates or replaces the object. Readers never see a partly written body. */
  put(key: string, body: Buffer, contentType: string): Promise<void>;
  /** `undefined` when there is no such object. */
  get(key: string): Promise<StoredObject | undefined>;
  /** Idempotent: deleting an absent object succeeds. */
  delete(key: string): Promise<void>;
  /** For readiness: resolves when the store can be used, throws (within a bounded time) when it cannot. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

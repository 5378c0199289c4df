/**
 * Counters, TTL keys and locks. Two implementations: Redis (shared by every instance) and in-memory (the
 * zero-setup embedded mode and fast unit tests; one process only).
 */
export interface KeyValueStore {
  readonly kind: "redis" | "memory";
  get(key: string): Promise<string | null>;
  /** Sets a value; with `ttlMs` it expires after that long. */
  set(key: string, value: string, ttlMs?: number): Promise<void>;
  /** Sets the value only if the key does not exist; true when this call set it. The basis of locks. */
  setIfAbsent(key: string, value: string, ttlMs: number): Promise<boolean>;
  /** Atomically adds one and returns the new value; the TTL starts when the key is created. */
  increment(key: string, ttlMs: number): Promise<number>;
  delete(...keys: string[]): Promise<void>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

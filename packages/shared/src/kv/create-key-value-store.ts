import type { Logger } from "pino";
import type { Clock } from "../clock.ts";
import type { KeyValueStore } from "./key-value-store.ts";
import { MemoryKeyValueStore } from "./memory-key-value-store.ts";
import { RedisKeyValueStore } from "./redis-key-value-store.ts";

export interface KeyValueStoreOptions {
  /** REDIS_URL; unset means the in-memory store (embedded mode, one process). */
  url?: string | undefined;
  logger: Logger;
  /** Only the memory store reads it: Redis keeps its own time for TTLs. */
  clock?: Clock;
  keyPrefix?: string;
}

export function createKeyValueStore(options: KeyValueStoreOptions): KeyValueStore {
  if (options.url) {
    return new RedisKeyValueStore({
      url: options.url,
      logger: options.logger,
      ...(options.keyPrefix === undefined ? {} : { keyPrefix: options.keyPrefix }),
    });
  }
  return new MemoryKeyValueStore(options.clock ? { clock: options.clock } : {});
}

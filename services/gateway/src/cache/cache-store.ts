import type { RedisCommander } from "../redis-commander.ts";

/**
 * Raw storage for cached responses. `put` writes an entry (and the Vary record that points at it) and files
 * it under the user's index so that `purge` can drop everything of one user at once.
 */
export interface CacheStore {
  readonly kind: "redis" | "memory";
  readonly available: boolean;
  get(key: string): Promise<string | null>;
  put(records: [key: string, value: string][], ttlMs: number, indexKey: string | undefined): Promise<void>;
  purge(indexKey: string): Promise<void>;
}

const PUT = `
local ttl = tonumber(ARGV[1])
local n = (#ARGV - 1)
for i = 1, n do redis.call('SET', KEYS[i], ARGV[i + 1], 'PX', ttl) end
if #KEYS > n then
  for i = 1, n do redis.call('SADD', KEYS[n + 1], KEYS[i]) end
  if redis.call('PTTL', KEYS[n + 1]) < ttl then redis.call('PEXPIRE', KEYS[n + 1], ttl) end
end
return 1
`;

const PURGE = `
local keys = redis.call('SMEMBERS', KEYS[1])
for i = 1, #keys do redis.call('DEL', keys[i]) end
redis.call('DEL', KEYS[1])
return #keys
`;

export class RedisCacheStore implements CacheStore {
  readonly kind = "redis";
  readonly #redis: RedisCommander;
  readonly #putSha: string;
  readonly #purgeSha: string;

  constructor(redis: RedisCommander, sha1: (text: string) => string) {
    this.#redis = redis;
    this.#putSha = sha1(PUT);
    this.#purgeSha = sha1(PURGE);
  }

  get available(): boolean {
    return this.#redis.isReady;
  }

  get(key: string): Promise<string | null> {
    return this.#redis.command<string | null>(["GET", key]);
  }

  async put(records: [string, string][], ttlMs: number, indexKey: string | undefined): Promise<void> {
    const keys = records.map(([key]) => key);
    if (indexKey !== undefined) keys.push(indexKey);
    const args = [String(keys.length), ...keys, String(ttlMs), ...records.map(([, value]) => value)];
    await this.#redis.evalScript(this.#putSha, PUT, args);
  }

  async purge(indexKey: string): Promise<void> {
    await this.#redis.evalScript(this.#purgeSha, PURGE, ["1", indexKey]);
  }
}

/** The embedded mode's cache: bounded, in-process. */
export class MemoryCacheStore implements CacheStore {
  readonly kind = "memory";
  readonly available = true;
  readonly #entries = new Map<string, { value: string; expiresAt: number }>();
  readonly #indexes = new Map<string, Set<string>>();
  readonly #maxEntries: number;
  readonly #now: () => number;

  constructor(options: { maxEntries?: number; now?: () => number } = {}) {
    this.#maxEntries = options.maxEntries ?? 10_000;
    this.#now = options.now ?? Date.now;
  }

  async get(key: string): Promise<string | null> {
    const entry = this.#entries.get(key);
    if (!entry) return null;
    if (entry.expiresAt <= this.#now()) {
      this.#entries.delete(key);
      return null;
    }
    return entry.value;
  }

  async put(records: [string, string][], ttlMs: number, indexKey: string | undefined): Promise<void> {
    const expiresAt = this.#now() + ttlMs;
    for (const [key, value] of records) {
      if (this.#entries.size >= this.#maxEntries && !this.#entries.has(key)) {
        const oldest = this.#entries.keys().next();
        if (!oldest.done) this.#entries.delete(oldest.value);
      }
      this.#entries.set(key, { value, expiresAt });
      if (indexKey !== undefined) {
        let index = this.#indexes.get(indexKey);
        if (!index) this.#indexes.set(indexKey, (index = new Set()));
        index.add(key);
      }
    }
  }

  async purge(indexKey: string): Promise<void> {
    for (const key of this.#indexes.get(indexKey) ?? []) this.#entries.delete(key);
    this.#indexes.delete(indexKey);
  }
}

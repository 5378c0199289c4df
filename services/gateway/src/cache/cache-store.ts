import type { RedisConnection } from "@mimascota/shared/redis/redis-connection";
import { RedisScript } from "@mimascota/shared/redis/redis-script";

/**
 * One user's part of the cache: the index of their entries (so `purge` drops them all at once) and their
 * generation, which every purge advances. A fill reads the generation before it asks the upstream and stores
 * only if it is unchanged, so a response fetched before a purge is never stored after it, on any instance.
 */
export interface UserScope {
  indexKey: string;
  generationKey: string;
}

/**
 * Raw storage for cached responses. `put` writes an entry (and the Vary record that points at it), for a
 * user only while their generation is still `generation`, and files it under their index.
 */
export interface CacheStore {
  readonly kind: "redis" | "memory";
  readonly available: boolean;
  get(key: string): Promise<string | null>;
  generation(scope: UserScope): Promise<string>;
  /** False when the user's generation moved on (a purge) and nothing was written. */
  put(
    records: [key: string, value: string][],
    ttlMs: number,
    user: { scope: UserScope; generation: string } | undefined,
  ): Promise<boolean>;
  purge(scope: UserScope): Promise<void>;
}

/** How long a user's generation is kept: far longer than any fill, so a fill never sees it restart. */
const GENERATION_TTL_MS = 24 * 3600_000;

const PUT = new RedisScript(`
local ttl = tonumber(ARGV[1])
local n = #ARGV - 2
if #KEYS > n and (redis.call('GET', KEYS[n + 2]) or '0') ~= ARGV[2] then return 0 end
for i = 1, n do redis.call('SET', KEYS[i], ARGV[i + 2], 'PX', ttl) end
if #KEYS > n then
  for i = 1, n do redis.call('SADD', KEYS[n + 1], KEYS[i]) end
  if redis.call('PTTL', KEYS[n + 1]) < ttl then redis.call('PEXPIRE', KEYS[n + 1], ttl) end
end
return 1
`);

const PURGE = new RedisScript(`
local keys = redis.call('SMEMBERS', KEYS[1])
for i = 1, #keys do redis.call('DEL', keys[i]) end
redis.call('DEL', KEYS[1])
redis.call('INCR', KEYS[2])
redis.call('PEXPIRE', KEYS[2], ARGV[1])
return #keys
`);

export class RedisCacheStore implements CacheStore {
  readonly kind = "redis";
  readonly #redis: RedisConnection;

  constructor(redis: RedisConnection) {
    this.#redis = redis;
  }

  get available(): boolean {
    return this.#redis.isReady;
  }

  get(key: string): Promise<string | null> {
    return this.#redis.command<string | null>(["GET", key]);
  }

  async generation(scope: UserScope): Promise<string> {
    return (await this.#redis.command<string | null>(["GET", scope.generationKey])) ?? "0";
  }

  async put(
    records: [string, string][],
    ttlMs: number,
    user: { scope: UserScope; generation: string } | undefined,
  ): Promise<boolean> {
    const keys = records.map(([key]) => key);
    if (user) keys.push(user.scope.indexKey, user.scope.generationKey);
    const values = records.map(([, value]) => value);
    const args = [String(ttlMs), user?.generation ?? "", ...values];
    return (await this.#redis.runScript(PUT, keys, args)) === 1;
  }

  async purge(scope: UserScope): Promise<void> {
    const keys = [scope.indexKey, scope.generationKey];
    await this.#redis.runScript(PURGE, keys, [String(GENERATION_TTL_MS)]);
  }
}

/** The embedded mode's cache: bounded, in-process. */
export class MemoryCacheStore implements CacheStore {
  readonly kind = "memory";
  readonly available = true;
  readonly #entries = new Map<string, { value: string; expiresAt: number }>();
  readonly #indexes = new Map<string, Set<string>>();
  readonly #generations = new Map<string, number>();
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

  async generation(scope: UserScope): Promise<string> {
    return String(this.#generations.get(scope.generationKey) ?? 0);
  }

  async put(
    records: [string, string][],
    ttlMs: number,
    user: { scope: UserScope; generation: string } | undefined,
  ): Promise<boolean> {
    if (user && (await this.generation(user.scope)) !== user.generation) return false;
    const indexKey = user?.scope.indexKey;
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
    return true;
  }

  async purge(scope: UserScope): Promise<void> {
    for (const key of this.#indexes.get(scope.indexKey) ?? []) this.#entries.delete(key);
    this.#indexes.delete(scope.indexKey);
    this.#generations.set(scope.generationKey, (this.#generations.get(scope.generationKey) ?? 0) + 1);
  }
}

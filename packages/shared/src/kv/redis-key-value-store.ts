import type { Logger } from "pino";
import { RedisConnection } from "../redis/redis-connection.ts";
import { RedisScript } from "../redis/redis-script.ts";
import type { KeyValueStore } from "./key-value-store.ts";

export interface RedisKeyValueStoreOptions {
  /** redis:// or rediss:// URL. */
  url: string;
  logger: Logger;
  /** Prepended to every key, so several deployments (or test files) can share one Redis. */
  keyPrefix?: string;
  /** A command that gets no answer within this long fails (ms). */
  commandTimeoutMs?: number;
  /** How long a command issued during the very first connection attempt waits for it (ms). */
  connectTimeoutMs?: number;
}

// INCR then PEXPIRE only when INCR created the key: a TTL set on every increment would keep a busy counter
// alive forever, and two round trips would leave an immortal key if the process died between them.
const INCREMENT = new RedisScript(`
local value = redis.call('INCR', KEYS[1])
if value == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return value`);

/**
 * The Redis implementation, shared by every instance, on its own `RedisConnection`: a Redis outage never
 * crashes the process, and commands issued during it fail (at once, or after the command timeout when the
 * server hangs) so callers can degrade instead of hanging.
 */
export class RedisKeyValueStore implements KeyValueStore {
  readonly kind = "redis";
  readonly #redis: RedisConnection;
  readonly #prefix: string;

  constructor(options: RedisKeyValueStoreOptions) {
    this.#prefix = options.keyPrefix ?? "";
    this.#redis = new RedisConnection({
      url: options.url,
      logger: options.logger,
      commandTimeoutMs: options.commandTimeoutMs ?? 2_000,
      ...(options.connectTimeoutMs === undefined ? {} : { connectTimeoutMs: options.connectTimeoutMs }),
    });
    // Connecting now rather than on the first command: a Redis that is down is reported at boot.
    void this.#redis.connect();
  }

  get(key: string): Promise<string | null> {
    return this.#redis.command<string | null>(["GET", this.#key(key)]);
  }

  async set(key: string, value: string, ttlMs?: number): Promise<void> {
    const expiration = ttlMs === undefined ? [] : ["PX", String(ttlMs)];
    await this.#redis.command(["SET", this.#key(key), value, ...expiration]);
  }

  async setIfAbsent(key: string, value: string, ttlMs: number): Promise<boolean> {
    const reply = await this.#redis.command(["SET", this.#key(key), value, "NX", "PX", String(ttlMs)]);
    return reply === "OK";
  }

  async increment(key: string, ttlMs: number): Promise<number> {
    const ttl = String(Math.max(1, Math.ceil(ttlMs)));
    return Number(await this.#redis.runScript(INCREMENT, [this.#key(key)], [ttl]));
  }

  async delete(...keys: string[]): Promise<void> {
    if (keys.length === 0) return;
    await this.#redis.command(["DEL", ...keys.map((key) => this.#key(key))]);
  }

  ping(): Promise<void> {
    return this.#redis.ping();
  }

  close(): Promise<void> {
    return this.#redis.close();
  }

  #key(key: string): string {
    return this.#prefix + key;
  }
}

import type { Logger } from "pino";
import { createClient } from "redis";
import type { KeyValueStore } from "./key-value-store.ts";
import { withDeadline } from "../deadline.ts";

type RedisClient = ReturnType<typeof createClient>;

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
const INCREMENT_SCRIPT = `
local value = redis.call('INCR', KEYS[1])
if value == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return value`;

/** Reconnect delay: 50 ms, 100 ms, … up to 5 s, with jitter so many instances do not reconnect in lockstep. */
function reconnectDelay(retries: number): number {
  return Math.min(5_000, 50 * 2 ** Math.min(retries, 7)) + Math.floor(Math.random() * 100);
}

/**
 * The Redis implementation, shared by every instance. It never crashes the process when Redis goes away:
 * connection errors are logged (once per outage) and the client reconnects in the background, while commands
 * issued in the meantime fail at once (`disableOfflineQueue`) so callers can degrade instead of hanging.
 */
export class RedisKeyValueStore implements KeyValueStore {
  readonly kind = "redis";
  readonly #client: RedisClient;
  readonly #logger: Logger;
  readonly #prefix: string;
  readonly #commandTimeoutMs: number;
  /** Settles after the first connection attempt (success or failure), so boot-time commands do not fail. */
  readonly #firstAttempt: Promise<void>;
  #down = false;
  #closed = false;

  constructor(options: RedisKeyValueStoreOptions) {
    this.#logger = options.logger.child({ component: "redis" });
    this.#prefix = options.keyPrefix ?? "";
    const connectTimeout = options.connectTimeoutMs ?? 2_000;
    this.#commandTimeoutMs = options.commandTimeoutMs ?? 2_000;
    this.#client = createClient({
      url: options.url,
      disableOfflineQueue: true,
      commandsQueueMaxLength: 10_000,
      commandOptions: { timeout: this.#commandTimeoutMs },
      socket: { connectTimeout, reconnectStrategy: reconnectDelay },
    });
    this.#client.on("error", (error: unknown) => this.#onError(error));
    this.#client.on("ready", () => {
      if (this.#down) this.#logger.info("redis connection restored");
      this.#down = false;
    });
    const connecting = this.#client.connect().then(
      () => undefined,
      (error: unknown) => this.#onError(error),
    );
    this.#firstAttempt = new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, connectTimeout);
      timer.unref();
      const settle = (): void => {
        clearTimeout(timer);
        resolve();
      };
      this.#client.once("ready", settle);
      this.#client.once("error", settle);
      void connecting.then(settle);
    });
  }

  get(key: string): Promise<string | null> {
    return this.#run((client) => client.get(this.#key(key)));
  }

  async set(key: string, value: string, ttlMs?: number): Promise<void> {
    const expiration = ttlMs === undefined ? {} : { expiration: { type: "PX" as const, value: ttlMs } };
    await this.#run((client) => client.set(this.#key(key), value, expiration));
  }

  async setIfAbsent(key: string, value: string, ttlMs: number): Promise<boolean> {
    const reply = await this.#run((client) =>
      client.set(this.#key(key), value, { condition: "NX", expiration: { type: "PX", value: ttlMs } }),
    );
    return reply === "OK";
  }

  async increment(key: string, ttlMs: number): Promise<number> {
    const reply = await this.#run((client) =>
      client.eval(INCREMENT_SCRIPT, {
        keys: [this.#key(key)],
        arguments: [String(Math.max(1, Math.ceil(ttlMs)))],
      }),
    );
    return Number(reply);
  }

  async delete(...keys: string[]): Promise<void> {
    if (keys.length === 0) return;
    await this.#run((client) => client.del(keys.map((key) => this.#key(key))));
  }

  async ping(): Promise<void> {
    await this.#run((client) => client.ping());
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    // destroy() also works while reconnecting, where close() would wait for a connection that may never come.
    if (this.#client.isReady) await this.#client.close();
    else this.#client.destroy();
  }

  /**
   * Runs one command with a deadline. node-redis's own command timeout stops counting once the command is
   * written, so a server that accepts the command but never answers (frozen, overloaded) would otherwise
   * hold the caller forever; the queue length bound keeps memory in check while that lasts.
   */
  async #run<T>(command: (client: RedisClient) => Promise<T>): Promise<T> {
    await this.#firstAttempt;
    return withDeadline(command(this.#client), this.#commandTimeoutMs, () => {
      throw new Error(`redis command timed out after ${this.#commandTimeoutMs} ms`);
    });
  }

  #key(key: string): string {
    return this.#prefix + key;
  }

  #onError(error: unknown): void {
    if (this.#down || this.#closed) return;
    this.#down = true;
    this.#logger.error(
      { err: error instanceof Error ? error.message : String(error) },
      "redis unavailable; commands fail until it reconnects",
    );
  }
}
